package otelcallcrm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

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
	tp, mp := benchProviders(b, sampler)
	o, err := otelcallcrm.New(append([]otelcallcrm.Option{otelcallcrm.WithTracerProvider(tp), otelcallcrm.WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// benchProviders are the SDK's providers the benchmarks record to.
func benchProviders(b *testing.B, sampler sdktrace.Sampler) (*sdktrace.TracerProvider, *sdkmetric.MeterProvider) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(discard{}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return tp, mp
}

// sdkDelivery returns what inlineDelivery makes the adapter record, done
// straight on the SDK with everything the adapter can cache built once:
// the same five spans with their attributes and the same five
// measurements. It is the floor of the adapter's cost.
func sdkDelivery(b *testing.B, sampler sdktrace.Sampler) func() {
	tp, mp := benchProviders(b, sampler)
	tr, m := tp.Tracer(otelcallcrm.ScopeName), mp.Meter(otelcallcrm.ScopeName)
	deliveries, _ := m.Int64Counter(otelcallcrm.MetricDeliveries)
	deliveryDuration, _ := m.Float64Histogram(otelcallcrm.MetricDeliveryDuration)
	callbackDuration, _ := m.Float64Histogram(otelcallcrm.MetricCallbackDuration)
	storeDuration, _ := m.Float64Histogram(otelcallcrm.MetricStoreDuration)
	base := []attribute.KeyValue{otelcallcrm.AttrProvider.String("sivo"), otelcallcrm.AttrReceiver.String("default")}
	set := func(kv ...attribute.KeyValue) []metric.RecordOption {
		return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(append(kv, base...)...))}
	}
	deliverySet := set(otelcallcrm.AttrOutcome.String("processed"), attribute.Int("http.response.status_code", 200))
	deliveryAdd := []metric.AddOption{deliverySet[0].(metric.AddOption)}
	callbackSet, reserveSet, commitSet := set(otelcallcrm.AttrOutcome.String("processed")),
		set(otelcallcrm.AttrOutcome.String("ok"), otelcallcrm.AttrStoreOp.String("reserve")),
		set(otelcallcrm.AttrOutcome.String("ok"), otelcallcrm.AttrStoreOp.String("commit"))
	server := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(base...)}
	return func() {
		ctx, span := tr.Start(context.Background(), "webhook receive sivo", server...)
		stage := func(name string, opts []metric.RecordOption, kv ...attribute.KeyValue) {
			_, s := tr.Start(ctx, name)
			s.SetAttributes(kv...)
			s.End()
			if opts != nil {
				storeDuration.Record(ctx, 0.001, opts...)
			}
		}
		stage("webhook verify", nil)
		stage("webhook store reserve", reserveSet)
		_, cb := tr.Start(ctx, "webhook callback")
		cb.SetAttributes(otelcallcrm.AttrOutcome.String("processed"), otelcallcrm.AttrEventType.String("call.ended"))
		cb.End()
		callbackDuration.Record(ctx, 0.001, callbackSet...)
		stage("webhook store commit", commitSet)
		span.SetAttributes(otelcallcrm.AttrOutcome.String("processed"), otelcallcrm.AttrDeliveryID.String("evt_1"),
			otelcallcrm.AttrEventType.String("call.ended"), attribute.Int("http.response.status_code", 200))
		span.End()
		deliveries.Add(ctx, 1, deliveryAdd...)
		deliveryDuration.Record(ctx, 0.002, deliverySet...)
	}
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
// calls (five spans, five measurements) and for one client call with
// one attempt; compare with the delivery's own cost in BenchmarkReceive.
// "delivery-sdk-only" records the same spans and measurements straight on
// the SDK: the part of "delivery" that is the SDK's.
func BenchmarkObserver(b *testing.B) {
	for _, c := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{{"sampled", sdktrace.AlwaysSample()}, {"unsampled", sdktrace.NeverSample()}} {
		b.Run("delivery/"+c.name, func(b *testing.B) {
			o := benchObserver(b, c.sampler)
			parallel(b, func() { inlineDelivery(o) })
		})
		b.Run("delivery-sdk-only/"+c.name, func(b *testing.B) {
			parallel(b, sdkDelivery(b, c.sampler))
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
