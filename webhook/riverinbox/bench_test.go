package riverinbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

var benchSeq atomic.Int64

// BenchmarkInbox measures signed SIVO deliveries answered 2xx over
// loopback HTTP with 50 concurrent senders, per database and per path:
//
//   - one_insert: a hand-written receiver (verify the HMAC, one INSERT of
//     the body, 200), the floor a durable receiver is compared to;
//   - per_request: the inbox storing each delivery in its own transaction
//     (WithMaxBatch(1), the path before group commit);
//   - batched: the inbox with group commit (the default).
//
// No worker runs: this is the path to the 2xx. Custom metrics:
// deliveries/s, p50-ms and p99-ms (time to 2xx), cpu-ns/op (this
// process's user+system CPU per delivery; the database server's is not
// counted).
//
//	go test -run '^$' -bench Inbox -benchtime 3000x ./
func BenchmarkInbox(b *testing.B) {
	noop := sivo.Callbacks{CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error { return nil }}
	for _, k := range allKinds {
		b.Run(string(k), func(b *testing.B) {
			b.Run("one_insert", func(b *testing.B) {
				db := newTestDBKind(b, k)
				blob := "BYTEA"
				if k == kindSQLite {
					blob = "BLOB"
				}
				db.exec(b, "CREATE TABLE %sbaseline (id TEXT PRIMARY KEY, body "+blob+" NOT NULL)")
				benchDeliveries(b, oneInsertHandler(db))
			})
			b.Run("per_request", func(b *testing.B) {
				db := newTestDBKind(b, k)
				benchDeliveries(b, newSivoHandler(b, db.newInbox(b, WithMaxBatch(1)), noop))
			})
			b.Run("batched", func(b *testing.B) {
				db := newTestDBKind(b, k)
				benchDeliveries(b, newSivoHandler(b, db.newInbox(b), noop))
			})
		})
	}
}

// oneInsertHandler is a careful hand-written durable receiver: verify the
// signature, INSERT the body keyed on the event id (a duplicate inserts
// nothing), answer 200 once committed.
func oneInsertHandler(db *testDB) http.Handler {
	q := db.sql("INSERT INTO %sbaseline (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		sig, ok := strings.CutPrefix(r.Header.Get(sivo.HeaderSignature), sivo.SignaturePrefix)
		got, derr := hex.DecodeString(sig)
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write(body)
		if !ok || derr != nil || !hmac.Equal(got, m.Sum(nil)) {
			http.Error(w, "signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(sivo.HeaderEventID)
		if db.pool != nil {
			_, err = db.pool.Exec(r.Context(), q, id, body)
		} else {
			_, err = db.sqldb.ExecContext(r.Context(), q, id, body)
		}
		if err != nil {
			http.Error(w, "store", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchDeliveries(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = keepAliveClient(64)
	run := time.Now().UnixNano()
	// Bodies are built before the clock starts.
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = sivoEvent(b, fmt.Sprintf("evt_bench_%d_%d", run, benchSeq.Add(1)))
	}
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(25) // 50 senders on 2 cores
	cpu0 := cpuNow()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 256)
		for pb.Next() {
			body := bodies[next.Add(1)-1]
			t0 := time.Now()
			code, err := s.Deliver(context.Background(), srv.URL, body)
			local = append(local, time.Since(t0))
			if err != nil || code != 200 {
				b.Errorf("answered %d: %v", code, err)
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	b.StopTimer()
	cpu := cpuNow() - cpu0
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

var _ = webhook.WithInbox
