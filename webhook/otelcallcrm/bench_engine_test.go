package otelcallcrm_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// BenchmarkReceive is sivo's BenchmarkReceive (the full SIVO receiver
// over loopback HTTP, parallel clients, one 1 KiB call.ended per
// iteration with its own id) with no observer ("off") and with the
// adapter on the real SDK, every trace sampled and batched to a
// discarding exporter ("on"), or none sampled ("on-unsampled").
func BenchmarkReceive(b *testing.B) {
	ev, err := sivotest.NewEvent("evt_bench", sivo.EventCallEnded, time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC), map[string]any{
		"callId": "uuid-call", "direction": "inbound", "from": "+34611222333", "to": "+34911234567",
		"duration_sec": 184, "agentId": "uuid-agent", "queueId": "uuid-queue", "mosScore": 4.3,
		"hangupCause": "NORMAL_CLEARING", "notes": strings.Repeat("x", 1024-330),
	})
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	s, _ := sivotest.NewSender("bench-secret")
	run := func(b *testing.B, opts ...webhook.Option) {
		h, err := sivo.NewHandler([]string{"bench-secret"}, sivo.Callbacks{
			CallEnded: func(_ context.Context, _ *sivo.Event, c *sivo.CallEnded) error {
				if c.CallID == "" {
					return io.ErrUnexpectedEOF
				}
				return nil
			},
		}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.SetBytes(int64(len(ev.Raw)))
		b.ResetTimer()
		cpu0 := cpuTime()
		defer func() {
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := bytes.Replace(ev.Raw, []byte(`"evt_bench"`), []byte(`"evt_`+strconv.FormatInt(seq.Add(1), 10)+`"`), 1)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header = s.Sign(body)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	b.Run("off", func(b *testing.B) { run(b) })
	b.Run("on", func(b *testing.B) { run(b, webhook.WithObserver(benchObserver(b, sdktrace.AlwaysSample()))) })
	b.Run("on-unsampled", func(b *testing.B) { run(b, webhook.WithObserver(benchObserver(b, sdktrace.NeverSample()))) })
}
