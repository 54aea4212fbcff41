package riverinbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

var benchSeq atomic.Int64

// BenchmarkInbox measures signed SIVO deliveries per second answered 2xx
// over loopback HTTP, 8 senders at once: "river" stores each as a River
// job (the insert committed before the 2xx; no worker runs, so this is
// the enqueue path alone), "inline" runs a no-op callback before
// answering.
//
//	go test -run '^$' -bench Inbox -benchmem -benchtime 2000x ./webhook/riverinbox/
func BenchmarkInbox(b *testing.B) {
	noop := sivo.Callbacks{CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error { return nil }}
	b.Run("river", func(b *testing.B) {
		db := newTestDB(b)
		benchDeliveries(b, newSivoHandler(b, db.newInbox(b), noop))
	})
	b.Run("inline", func(b *testing.B) {
		h, err := sivo.NewHandler([]string{testSecret}, noop, webhook.WithTimeout(5*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		benchDeliveries(b, h)
	})
}

func benchDeliveries(b *testing.B, h *sivo.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = keepAliveClient(16)
	run := time.Now().UnixNano()
	b.ReportAllocs()
	b.SetParallelism(4) // 8 senders on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := sivoEvent(b, fmt.Sprintf("evt_bench_%d_%d", run, benchSeq.Add(1)))
			code, err := s.Deliver(context.Background(), srv.URL, body)
			if err != nil || code != 200 {
				b.Errorf("answered %d: %v", code, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
