package otelcallcrm_test

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
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
)

// harness is an Observer on the real SDK with in-memory readers.
type harness struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	obs    *otelcallcrm.Observer
}

func newHarness(t testing.TB, opts ...otelcallcrm.Option) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = h.mp.Shutdown(context.Background())
	})
	obs, err := otelcallcrm.New(append([]otelcallcrm.Option{
		otelcallcrm.WithTracerProvider(h.tp), otelcallcrm.WithMeterProvider(h.mp),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.obs = obs
	return h
}

func (h *harness) ended() []sdktrace.ReadOnlySpan { return h.spans.Ended() }

func (h *harness) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// spanNamed returns the one ended span called name.
func (h *harness) spanNamed(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range h.ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q, want 1; spans: %s", len(found), name, spanNames(h.ended()))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "[%s %s parent=%s] ", s.Name(), s.SpanContext().SpanID(), s.Parent().SpanID())
	}
	return b.String()
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t testing.TB, s sdktrace.ReadOnlySpan, k attribute.Key, want any) {
	t.Helper()
	v, ok := attr(s, k)
	if !ok {
		t.Errorf("span %q has no %s; has %v", s.Name(), k, s.Attributes())
		return
	}
	if got := v.AsInterface(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("span %q %s = %v, want %v", s.Name(), k, got, want)
	}
}

func wantParent(t testing.TB, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span %q has parent %s, want %q (%s)", child.Name(), child.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
	}
	if child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span %q is in trace %s, its parent %q in %s", child.Name(), child.SpanContext().TraceID(), parent.Name(), parent.SpanContext().TraceID())
	}
}

func wantKind(t testing.TB, s sdktrace.ReadOnlySpan, k trace.SpanKind) {
	t.Helper()
	if s.SpanKind() != k {
		t.Errorf("span %q kind %v, want %v", s.Name(), s.SpanKind(), k)
	}
}

// point is one data point of a metric: its attributes and value (a sum's
// value, a histogram's count and sum, a gauge's value).
type point struct {
	attrs attribute.Set
	value float64
	count uint64
}

func points(rm metricdata.ResourceMetrics, name string) []point {
	var out []point
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out = append(out, point{attrs: p.Attributes, value: float64(p.Value)})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out = append(out, point{attrs: p.Attributes, value: p.Value})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out = append(out, point{attrs: p.Attributes, value: float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, point{attrs: p.Attributes, value: p.Sum, count: p.Count})
				}
			}
		}
	}
	return out
}

// matching returns the points of name whose attributes include every
// key=value in want (values compared as printed).
func matching(rm metricdata.ResourceMetrics, name string, want map[string]any) []point {
	var out []point
	for _, p := range points(rm, name) {
		ok := true
		for k, v := range want {
			got, has := p.attrs.Value(attribute.Key(k))
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

// sum adds up the values (counters) of name's points matching want.
func sum(rm metricdata.ResourceMetrics, name string, want map[string]any) float64 {
	var s float64
	for _, p := range matching(rm, name, want) {
		s += p.value
	}
	return s
}

// count adds up the counts (histograms) of name's points matching want.
func count(rm metricdata.ResourceMetrics, name string, want map[string]any) uint64 {
	var s uint64
	for _, p := range matching(rm, name, want) {
		s += p.count
	}
	return s
}

// assertNoSecret scans every exported span (name, attributes, events,
// links, status, resource) and every metric (names, descriptions, data
// point attributes) for each secret.
func assertNoSecret(t testing.TB, h *harness, secrets ...string) {
	t.Helper()
	var texts []string
	kvs := func(where string, a []attribute.KeyValue) {
		for _, kv := range a {
			texts = append(texts, where+" "+string(kv.Key)+"="+kv.Value.String())
		}
	}
	spans := h.ended()
	if len(spans) == 0 {
		t.Fatal("no span to scan")
	}
	for _, s := range spans {
		texts = append(texts, "span name "+s.Name(), "span status "+s.Status().Description)
		kvs("span "+s.Name(), s.Attributes())
		for _, e := range s.Events() {
			texts = append(texts, "event "+e.Name)
			kvs("event "+e.Name, e.Attributes)
		}
		for _, l := range s.Links() {
			kvs("link", l.Attributes)
		}
		kvs("resource", s.Resource().Attributes())
	}
	rm := h.collect(t)
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			texts = append(texts, "metric "+m.Name+" "+m.Description+" "+m.Unit)
			for _, p := range points(rm, m.Name) {
				n++
				kvs("metric "+m.Name, p.attrs.ToSlice())
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

func attributeKey(k string) attribute.Key { return attribute.Key(k) }

func containsWord(s, w string) bool { return strings.Contains(s, w) }

func collectFrom(t testing.TB, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}
