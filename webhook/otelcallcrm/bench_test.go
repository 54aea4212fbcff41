package otelcallcrm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
)

// discard is a span exporter that drops everything: the cost measured is
// the adapter's and the SDK's, not an exporter's.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// benchObserver is the adapter on the real SDK: spans batched to a
// discarding exporter, sampled or not; metrics aggregated for a reader
// that is never collected.
func benchObserver(b *testing.B, sampler sdktrace.Sampler, opts ...otelcallcrm.Option) *otelcallcrm.Observer {
	b.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	o, err := otelcallcrm.New(append([]otelcallcrm.Option{otelcallcrm.WithTracerProvider(tp), otelcallcrm.WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// inlineDelivery is every stage call the engine makes for one delivery
// answered inline: delivery > verify, store reserve, callback, store
// commit.
func inlineDelivery(o webhook.Observer) {
	ob := webhook.Observation{Provider: "sivo", Receiver: "default"}
	ctx, endDelivery := o.Start(context.Background(), webhook.StageDelivery, ob)
	_, end := o.Start(ctx, webhook.StageVerify, ob)
	end(webhook.Result{Outcome: webhook.OutcomeOK, DeliveryID: "evt_1"})
	ob.DeliveryID, ob.EventType, ob.Op = "evt_1", "call.ended", "reserve"
	_, end = o.Start(ctx, webhook.StageStore, ob)
	end(webhook.Result{Outcome: webhook.OutcomeOK})
	ob.Op = ""
	_, end = o.Start(ctx, webhook.StageCallback, ob)
	end(webhook.Result{Outcome: webhook.OutcomeProcessed, DeliveryID: "evt_1", EventType: "call.ended"})
	ob.Op = "commit"
	_, end = o.Start(ctx, webhook.StageStore, ob)
	end(webhook.Result{Outcome: webhook.OutcomeOK})
	endDelivery(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: http.StatusOK, DeliveryID: "evt_1", EventType: "call.ended"})
}

// BenchmarkObserver measures the adapter's cost for one delivery's stage
// calls (five spans, four metric records) and for one client call with
// one attempt; compare with the delivery's own cost in BenchmarkReceive.
func BenchmarkObserver(b *testing.B) {
	for _, c := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{{"sampled", sdktrace.AlwaysSample()}, {"unsampled", sdktrace.NeverSample()}} {
		b.Run("delivery/"+c.name, func(b *testing.B) {
			o := benchObserver(b, c.sampler)
			parallel(b, func() { inlineDelivery(o) })
		})
		b.Run("client/"+c.name, func(b *testing.B) {
			o := benchObserver(b, c.sampler)
			parallel(b, func() {
				ctx, end := o.StartCall(context.Background(), "siro", "ListCalls")
				o.LimiterWait(ctx, time.Millisecond)
				_, endAttempt := o.StartAttempt(ctx, http.MethodGet, 1)
				endAttempt(200, nil, 0)
				end(200, nil)
			})
		})
	}
}

// parallel runs op b.N times from parallel goroutines, reporting
// allocations and cpu-ns/op.
func parallel(b *testing.B, op func()) {
	b.ReportAllocs()
	defer benchkit.CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op()
		}
	})
}
