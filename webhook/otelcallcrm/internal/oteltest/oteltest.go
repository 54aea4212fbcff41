// Package oteltest is the real OpenTelemetry SDK in memory (a span
// recorder and a manual metric reader) and the readers of what it
// recorded, shared by the adapter's tests and the River trace test
// (internal/rivertest). Only tests import it.
package oteltest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// SDK is a tracer provider sampling every trace into Spans and a meter
// provider read by Reader.
type SDK struct {
	Spans  *tracetest.SpanRecorder
	Reader *sdkmetric.ManualReader
	TP     *sdktrace.TracerProvider
	MP     *sdkmetric.MeterProvider
}

// New returns an SDK shut down when t ends.
func New(t testing.TB) *SDK {
	t.Helper()
	s := &SDK{Spans: tracetest.NewSpanRecorder(), Reader: sdkmetric.NewManualReader()}
	s.TP = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.Spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	s.MP = sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.Reader))
	t.Cleanup(func() {
		_ = s.TP.Shutdown(context.Background())
		_ = s.MP.Shutdown(context.Background())
	})
	return s
}

// Ended returns the spans ended so far.
func (s *SDK) Ended() []sdktrace.ReadOnlySpan { return s.Spans.Ended() }

// Collect returns the metrics recorded so far.
func (s *SDK) Collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	return Collect(t, s.Reader)
}

// Collect returns what r reads now; an error fails t.
func Collect(t testing.TB, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// SpanNames lists spans with their ids and parents' ids, for failure
// messages.
func SpanNames(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "[%s %s parent=%s] ", s.Name(), s.SpanContext().SpanID(), s.Parent().SpanID())
	}
	return b.String()
}

// Point is one data point of a metric: its attributes and value (a sum's
// value, a histogram's count and sum, a gauge's value).
type Point struct {
	Attrs attribute.Set
	Value float64
	Count uint64
}

// Points returns the data points of the metric name.
func Points(rm metricdata.ResourceMetrics, name string) []Point {
	var out []Point
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out = append(out, Point{Attrs: p.Attributes, Value: float64(p.Value)})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out = append(out, Point{Attrs: p.Attributes, Value: p.Value})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out = append(out, Point{Attrs: p.Attributes, Value: float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, Point{Attrs: p.Attributes, Value: p.Sum, Count: p.Count})
				}
			}
		}
	}
	return out
}

// Matching returns the points of name whose attributes include every
// key=value in want (values compared as printed).
func Matching(rm metricdata.ResourceMetrics, name string, want map[string]any) []Point {
	var out []Point
	for _, p := range Points(rm, name) {
		ok := true
		for k, v := range want {
			got, has := p.Attrs.Value(attribute.Key(k))
			if !has || fmt.Sprint(got.AsInterface()) != fmt.Sprint(v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// Sum adds up the values (counters) of name's points matching want.
func Sum(rm metricdata.ResourceMetrics, name string, want map[string]any) float64 {
	var s float64
	for _, p := range Matching(rm, name, want) {
		s += p.Value
	}
	return s
}

// WantSum fails t unless the counters of name's points matching attrs
// add up to want.
func WantSum(t testing.TB, rm metricdata.ResourceMetrics, name string, attrs map[string]any, want float64) {
	t.Helper()
	if got := Sum(rm, name, attrs); got != want {
		t.Errorf("%s%v = %v, want %v", name, attrs, got, want)
	}
}

// Count adds up the counts (histograms) of name's points matching want.
func Count(rm metricdata.ResourceMetrics, name string, want map[string]any) uint64 {
	var s uint64
	for _, p := range Matching(rm, name, want) {
		s += p.Count
	}
	return s
}

// Gauge is the value of the gauge name, which must have one point, at a
// fresh collection of r.
func Gauge(t testing.TB, r *sdkmetric.ManualReader, name string) float64 {
	t.Helper()
	ps := Points(Collect(t, r), name)
	if len(ps) != 1 {
		t.Fatalf("gauge %s has %d points, want 1", name, len(ps))
	}
	return ps[0].Value
}

// AssertNoSecret scans every span ended (name, attributes, events,
// links, status, resource) and every metric (names, descriptions, data
// point attributes) for each secret.
func (s *SDK) AssertNoSecret(t testing.TB, secrets ...string) {
	t.Helper()
	var texts []string
	kvs := func(where string, a []attribute.KeyValue) {
		for _, kv := range a {
			texts = append(texts, where+" "+string(kv.Key)+"="+kv.Value.String())
		}
	}
	spans := s.Ended()
	if len(spans) == 0 {
		t.Fatal("no span to scan")
	}
	for _, sp := range spans {
		texts = append(texts, "span name "+sp.Name(), "span status "+sp.Status().Description)
		kvs("span "+sp.Name(), sp.Attributes())
		for _, e := range sp.Events() {
			texts = append(texts, "event "+e.Name)
			kvs("event "+e.Name, e.Attributes)
		}
		for _, l := range sp.Links() {
			kvs("link", l.Attributes)
		}
		kvs("resource", sp.Resource().Attributes())
	}
	rm := s.Collect(t)
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, "metric "+m.Name+" "+m.Description+" "+m.Unit)
			for _, p := range Points(rm, m.Name) {
				n++
				kvs("metric "+m.Name, p.Attrs.ToSlice())
			}
		}
	}
	if n == 0 {
		t.Fatal("no metric data point to scan")
	}
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("empty secret: the scan would prove nothing")
		}
		for _, txt := range texts {
			if strings.Contains(txt, secret) {
				t.Errorf("secret %q found in %s", secret, txt)
			}
		}
	}
}
