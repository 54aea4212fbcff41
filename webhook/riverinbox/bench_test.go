package riverinbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	"github.com/jackc/pgx/v5"
)

var benchSeq atomic.Int64

// BenchmarkInbox measures signed SIVO deliveries answered 2xx over
// loopback HTTP with 50 concurrent senders, per database and per path:
//
//   - inline_noop: no database at all (the handler's callback does
//     nothing): the floor the HTTP path and the senders set on this
//     machine;
//   - one_insert: a hand-written receiver (verify the HMAC, one INSERT of
//     the body, 200), the floor a durable receiver is compared to;
//   - per_request: the inbox storing each delivery in its own transaction
//     (WithMaxBatch(1), the path before group commit);
//   - batched: the inbox with group commit (the default).
//
// The senders are a closed loop (each sends its next delivery when the
// previous one is answered), so at saturation the time to 2xx is set by
// throughput (Little's law: p50 is about 50 / deliveries/s). The
// *_paced variants offer a fixed 300 deliveries/s from the same 50
// senders instead (open loop, time measured from each delivery's
// scheduled send), showing the time to 2xx below saturation, and the
// *_paced_high variants 4,000/s, a load the batched inbox keeps up with
// and a one-INSERT receiver does not (its backlog shows in its p50).
//
// No worker runs: this is the path to the 2xx. Custom metrics:
// deliveries/s, p50-ms and p99-ms (time to 2xx), cpu-ns/op (this
// process's user+system CPU per delivery, senders included; the database
// server's is not counted), and for batched rows/commit and commit-ms
// (mean time one batch spends in its transaction).
//
// Runs of 12,000 deliveries reach the steady state (shorter ones are
// mostly warm-up; the *_paced variants then take 40 s each):
//
//	go test -run '^$' -bench Inbox -benchtime 12000x ./
func BenchmarkInbox(b *testing.B) {
	noop := sivo.Callbacks{CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error { return nil }}
	b.Run("inline_noop", func(b *testing.B) {
		h, err := sivo.NewHandler([]string{testSecret}, noop)
		if err != nil {
			b.Fatal(err)
		}
		benchDeliveries(b, h, nil, 0)
	})
	for _, k := range allKinds {
		b.Run(string(k), func(b *testing.B) {
			oneInsert := func(b *testing.B, pace float64) {
				db := newTestDBKind(b, k)
				blob := "BYTEA"
				if k == kindSQLite {
					blob = "BLOB"
				}
				db.exec(b, "CREATE TABLE %sbaseline (id TEXT PRIMARY KEY, body "+blob+" NOT NULL)")
				benchDeliveries(b, oneInsertHandler(db), nil, pace)
			}
			batched := func(b *testing.B, pace float64) {
				db := newTestDBKind(b, k)
				in := db.newInbox(b)
				benchDeliveries(b, newSivoHandler(b, in, noop), batcherOf(in), pace)
			}
			b.Run("one_insert", func(b *testing.B) { oneInsert(b, 0) })
			b.Run("per_request", func(b *testing.B) {
				db := newTestDBKind(b, k)
				benchDeliveries(b, newSivoHandler(b, db.newInbox(b, WithMaxBatch(1)), noop), nil, 0)
			})
			b.Run("batched", func(b *testing.B) { batched(b, 0) })
			b.Run("one_insert_paced", func(b *testing.B) { oneInsert(b, benchPace) })
			b.Run("batched_paced", func(b *testing.B) { batched(b, benchPace) })
			b.Run("one_insert_paced_high", func(b *testing.B) { oneInsert(b, benchPaceHigh) })
			b.Run("batched_paced_high", func(b *testing.B) { batched(b, benchPaceHigh) })
		})
	}
}

// benchPace and benchPaceHigh are the offered loads of the *_paced and
// *_paced_high variants, deliveries/s: a light load, and a heavy one that
// the batched inbox keeps up with on 2 cores and the one-INSERT receiver
// (one transaction per delivery) does not.
const (
	benchPace     = 300
	benchPaceHigh = 4000
)

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

// batcherOf returns the inbox's group-commit batcher, whichever its
// transaction type.
func batcherOf(in inboxAPI) *batcher {
	switch v := in.(type) {
	case *Inbox[pgx.Tx]:
		return v.batch
	case *Inbox[*sql.Tx]:
		return v.batch
	}
	return nil
}

// benchDeliveries sends b.N signed deliveries to h from 50 goroutines and
// reports the metrics; bt, when set, adds rows/commit and commit-ms (mean
// time one batch spends in its transaction).
func benchDeliveries(b *testing.B, h http.Handler, bt *batcher, pace float64) {
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
	send := func(i int, from time.Time) (time.Duration, bool) {
		code, err := s.Deliver(context.Background(), srv.URL, bodies[i])
		if err != nil || code != 200 {
			b.Errorf("answered %d: %v", code, err)
			return 0, false
		}
		return time.Since(from), true
	}
	var commits0, rows0, nanos0 int64
	if bt != nil {
		commits0, rows0, nanos0 = bt.commits.Load(), bt.rows.Load(), bt.flushNanos.Load()
	}
	cpu0 := cpuNow()
	b.ResetTimer()
	var lat []time.Duration
	if pace > 0 {
		lat = sendPaced(b.N, pace, send)
	} else {
		lat = sendClosedLoop(b, send)
	}
	b.StopTimer()
	cpu := cpuNow() - cpu0
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if bt != nil {
		if c := bt.commits.Load() - commits0; c > 0 {
			b.ReportMetric(float64(bt.rows.Load()-rows0)/float64(c), "rows/commit")
			b.ReportMetric(float64(bt.flushNanos.Load()-nanos0)/float64(c)/1e6, "commit-ms")
		}
	}
}

const benchSenders = 50

// sendClosedLoop runs 50 senders, each sending its next delivery as soon
// as the previous one is answered.
func sendClosedLoop(b *testing.B, send func(i int, from time.Time) (time.Duration, bool)) []time.Duration {
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(benchSenders / runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 256)
		for pb.Next() {
			d, ok := send(int(next.Add(1)-1), time.Now())
			if !ok {
				return
			}
			local = append(local, d)
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	return lat
}

// sendPaced runs 50 senders offering n deliveries at pace deliveries/s in
// all: delivery i is due at start + i/pace, sent by sender i%50 (later if
// that sender is still waiting for its previous answer), and its time to
// 2xx counts from when it was due, so a backlog shows in the latency.
func sendPaced(n int, pace float64, send func(i int, from time.Time) (time.Duration, bool)) []time.Duration {
	start := time.Now()
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	for g := range benchSenders {
		wg.Go(func() {
			for i := g; i < n; i += benchSenders {
				due := start.Add(time.Duration(float64(i) / pace * float64(time.Second)))
				time.Sleep(time.Until(due)) // pacing the offered load
				d, ok := send(i, due)
				if !ok {
					return
				}
				lat[i] = d
			}
		})
	}
	wg.Wait()
	return lat
}

var _ = webhook.WithInbox
