package otelcallcrm_test

import (
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
)

// harness is an Observer on the real SDK with in-memory readers.
type harness struct {
	*oteltest.SDK
	obs *otelcallcrm.Observer
}

func newHarness(t testing.TB, opts ...otelcallcrm.Option) *harness {
	t.Helper()
	h := &harness{SDK: oteltest.New(t)}
	obs, err := otelcallcrm.New(append([]otelcallcrm.Option{
		otelcallcrm.WithTracerProvider(h.TP), otelcallcrm.WithMeterProvider(h.MP),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.obs = obs
	return h
}

// spanNamed returns the one ended span called name.
func (h *harness) spanNamed(t testing.TB, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range h.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q, want 1; spans: %s", len(found), name, oteltest.SpanNames(h.Ended()))
	}
	return found[0]
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

func attributeKey(k string) attribute.Key { return attribute.Key(k) }

func containsWord(s, w string) bool { return strings.Contains(s, w) }
