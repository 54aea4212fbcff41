package otelcallcrm_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// BenchmarkReceive is sivo's BenchmarkReceive (the full SIVO receiver
// over loopback HTTP, parallel clients, one 1 KiB call.ended per
// iteration with its own id, through the same benchkit runner) with no observer
// ("off"), with an Observer that does nothing ("noop": the engine's own
// cost of calling one) and with the adapter on the real SDK, every trace
// sampled and batched to a discarding exporter ("on"), one trace in ten
// sampled ("on-sampled-10pct", a common production setting:
// ParentBased(TraceIDRatioBased(0.1)); a vendor sends no traceparent, so
// the ratio decides) or none sampled ("on-unsampled"). Metrics are
// recorded for every delivery in all three.
func BenchmarkReceive(b *testing.B) {
	ev, err := sivotest.SizedCallEnded("evt_bench", time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC), 1<<10)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := sivotest.NewSender("bench-secret")
	run := func(b *testing.B, opts ...webhook.Option) {
		benchkit.Vendor{Body: ev.Raw, ID: "evt_bench", Prefix: "evt_",
			Sign: func(_ int64, body []byte) http.Header { return s.Sign(body) },
		}.ServeNew(b, func() (benchkit.Receiver, error) {
			return sivo.NewHandler([]string{"bench-secret"}, sivo.Callbacks{
				CallEnded: func(_ context.Context, _ *sivo.Event, c *sivo.CallEnded) error {
					if c.CallID == "" {
						return io.ErrUnexpectedEOF
					}
					return nil
				},
			}, opts...)
		})
	}
	b.Run("off", func(b *testing.B) { run(b) })
	b.Run("noop", func(b *testing.B) { run(b, webhook.WithObserver(noopObserver{})) })
	b.Run("on", func(b *testing.B) { run(b, webhook.WithObserver(benchObserver(b, sdktrace.AlwaysSample()))) })
	b.Run("on-sampled-10pct", func(b *testing.B) {
		run(b, webhook.WithObserver(benchObserver(b, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))))
	})
	b.Run("on-unsampled", func(b *testing.B) { run(b, webhook.WithObserver(benchObserver(b, sdktrace.NeverSample()))) })
}

// noopObserver is a webhook.Observer that does nothing.
type noopObserver struct{}

func (noopObserver) Start(ctx context.Context, _ webhook.Stage, _ webhook.Observation) (context.Context, func(webhook.Result)) {
	return ctx, func(webhook.Result) {}
}
func (noopObserver) Inject(context.Context) map[string]string                         { return nil }
func (noopObserver) Extract(ctx context.Context, _ map[string]string) context.Context { return ctx }
