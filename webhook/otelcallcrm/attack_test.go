package otelcallcrm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
)

// A typed nil provider (a *sdktrace.TracerProvider left nil when tracing
// is off, say) is a nil provider too: New refuses it with an error naming
// the option instead of panicking on its first use.
func TestAttackTypedNilProvidersRefused(t *testing.T) {
	var (
		tp   *sdktrace.TracerProvider
		mp   *sdkmetric.MeterProvider
		prop *nilPropagator
	)
	for name, opt := range map[string]otelcallcrm.Option{
		"WithTracerProvider": otelcallcrm.WithTracerProvider(tp),
		"WithMeterProvider":  otelcallcrm.WithMeterProvider(mp),
		"WithPropagator":     otelcallcrm.WithPropagator(prop),
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s(typed nil): New panicked: %v", name, p)
				}
			}()
			_, err := otelcallcrm.New(opt)
			if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s(typed nil): error %v, want ErrInvalidOption naming it", name, err)
			}
		}()
	}
	// Setup's exporters and readers likewise.
	var exp *tracetest.InMemoryExporter
	var rd *sdkmetric.ManualReader
	for name, cfg := range map[string]otelcallcrm.SetupConfig{
		"SpanExporters[0]": {ServiceName: "svc", SpanExporters: []sdktrace.SpanExporter{exp}},
		"MetricReaders[0]": {ServiceName: "svc", MetricReaders: []sdkmetric.Reader{rd}},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("Setup with a typed nil %s panicked: %v", name, p)
				}
			}()
			tel, err := otelcallcrm.Setup(context.Background(), cfg)
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), name) {
				t.Errorf("Setup with a typed nil %s: error %v, want ErrInvalidOption naming it", name, err)
			}
		}()
	}
}

// nilPropagator is a propagator type whose nil pointer is not usable.
type nilPropagator struct{ propagation.TraceContext }

// assertValidUTF8 fails t for every string the SDK recorded (span names,
// attributes, events, status, metric attributes) that is not valid UTF-8:
// OTLP carries them as protobuf strings, and one invalid string makes the
// exporter's marshalling fail for the whole batch (every other
// delivery's spans in it are lost too); Prometheus refuses the scrape.
func assertValidUTF8(t *testing.T, h *harness) {
	t.Helper()
	check := func(where, s string) {
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8: %q", where, s)
		}
	}
	kvs := func(where string, a []attribute.KeyValue) {
		for _, kv := range a {
			check(where+" "+string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range h.Ended() {
		check("span name", s.Name())
		check("span "+s.Name()+" status", s.Status().Description)
		kvs("span "+s.Name(), s.Attributes())
		for _, e := range s.Events() {
			kvs("span "+s.Name()+" event "+e.Name, e.Attributes)
		}
	}
	rm := h.Collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, p := range oteltest.Points(rm, m.Name) {
				kvs("metric "+m.Name, p.Attrs.ToSlice())
			}
		}
	}
}

// Anyone can send a delivery to a tenant path of their choosing, before
// any signature is checked: "/sivo/%FF%FE" is the tenant "\xff\xfe", and
// the delivery span carried it as callcrm.tenant verbatim. A Siro
// (Standard Webhooks) forgery with an id header of raw 0xFF bytes put
// them in the verify span's exception message. Every string the adapter
// records is valid UTF-8 (invalid bytes become U+FFFD).
func TestAttackInvalidUTF8FromSender(t *testing.T) {
	h := newHarness(t, otelcallcrm.WithTenantAttribute(func(tenant string) string { return tenant }))
	src := webhook.SecretsFunc(func(ctx context.Context, tenant string) ([]string, error) {
		return nil, fmt.Errorf("%w: no tenant %q", webhook.ErrUnknownTenant, tenant)
	})
	handler, err := sivo.NewHandler(nil, sivo.Callbacks{}, webhook.WithObserver(h.obs),
		webhook.WithSecretSource(src, webhook.TenantFromPath("tenant")))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /sivo/{tenant}", handler)
	siroKey := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	siroHandler, err := siro.NewHandler([]string{siroKey}, siro.Callbacks{}, webhook.WithObserver(h.obs))
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("POST /siro", siroHandler)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if status := deliver(t, newSender(t, secret), srv.URL+"/sivo/%FF%FEacme", callEnded(t, deliveryID)); status != http.StatusNotFound {
		t.Fatalf("delivery to an unknown tenant answered %d, want 404", status)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/siro", strings.NewReader(`{"type":"x"}`))
	req.Header.Set("webhook-id", "msg_\xff\xfe")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Siro forgery answered %d, want 401", resp.StatusCode)
	}
	if n := len(h.Ended()); n < 4 {
		t.Fatalf("%d spans, want the two deliveries and their verify stages", n)
	}
	assertValidUTF8(t, h)
}

// A transport failure's error quotes the request's URL (net/http's
// *url.Error: `Get "https://host/v1/core/recordings/rec_…?showSummary=…"`),
// and it became the client spans' status and exception message: the
// package promises spans never carry a URL (its path holds ids, its query
// filters and cursors). A callback returning such an error put it on the
// delivery's spans too. The message keeps the URL's scheme and host only.
func TestAttackClientErrorURLNotOnSpans(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nothing listens on: the dial fails
	c, err := siro.NewClient(siro.WithOrgToken(apiKey), siro.WithOrgBaseURL("http://"+addr), siro.WithMaxRetries(0), siro.WithObserver(h.obs))
	if err != nil {
		t.Fatal(err)
	}
	const id = "rec_PRIVATE_7731"
	_, callErr := c.GetRecording(context.Background(), id, &siro.RecordingShow{ShowSummary: true})
	if callErr == nil || !strings.Contains(callErr.Error(), id) {
		t.Fatalf("the call's error %v does not quote the URL: the test proves nothing", callErr)
	}
	// A callback failing with that error.
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { return callErr })
	if status := deliver(t, newSender(t, secret), url, callEnded(t, deliveryID)); status != http.StatusInternalServerError {
		t.Fatalf("answered %d, want 500", status)
	}
	for _, s := range h.Ended() {
		texts := []string{s.Status().Description}
		for _, e := range s.Events() {
			for _, kv := range e.Attributes {
				texts = append(texts, kv.Value.String())
			}
		}
		for _, kv := range s.Attributes() {
			texts = append(texts, kv.Value.String())
		}
		for _, txt := range texts {
			if strings.Contains(txt, id) || strings.Contains(txt, "showSummary") {
				t.Errorf("span %q carries the URL: %s", s.Name(), txt)
			}
		}
	}
	call := h.spanNamed(t, "siro-org Recordings.Get")
	if d := call.Status().Description; !strings.Contains(d, "connection refused") || !strings.Contains(d, "http://"+addr) {
		t.Errorf("the call's status %q lost the cause or the host", d)
	}
}

// buggyError is a user's error whose Error method panics (its cause is
// nil); it matches webhook.ErrCallbackFailed, so the engine hands it on
// as it is.
type buggyError struct{ cause error }

func (e *buggyError) Error() string        { return "retry later: " + e.cause.Error() }
func (e *buggyError) Is(target error) bool { return target == webhook.ErrCallbackFailed }

// The engine recovers a panic in an Observer and promises it never
// changes the answer. The adapter read the callback error's message while
// holding the delivery's lock: a panicking Error method left the lock
// held, the delivery's own end waited on it forever and the request was
// never answered (nor its span ended, nor its metrics counted).
func TestAttackPanickingErrorMessageDoesNotHangDelivery(t *testing.T) {
	h := newHarness(t)
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { return &buggyError{} },
		// No logger: the engine's own log line reads the message too
		// (webhook/report.go), outside this adapter.
		webhook.WithLogger(nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, err := newSender(t, secret).Deliver(ctx, url, callEnded(t, deliveryID))
	if err != nil {
		t.Fatalf("the delivery was never answered: %v", err)
	}
	if status != http.StatusInternalServerError {
		t.Errorf("answered %d, want 500", status)
	}
	req := h.spanNamed(t, "webhook receive sivo")
	wantAttr(t, req, otelcallcrm.AttrOutcome, "failed")
	oteltest.WantSum(t, h.Collect(t), otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "failed"}, 1)
}

// A sender's traceparent header is not read by the engine or the adapter:
// the delivery starts a trace of its own, sampled or not by your sampler,
// never the sender's trace id or sampling flag. (Held; see the package
// documentation on otelhttp.WithPublicEndpoint for a wrapped receiver.)
func TestAttackSenderTraceparentIgnored(t *testing.T) {
	h := newHarness(t)
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { return nil })
	s := newSender(t, secret)
	const attackerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := s.Request(context.Background(), url, callEnded(t, deliveryID))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-"+attackerTrace+"-00f067aa0ba902b7-01")
	req.Header.Set("baggage", "user=attacker")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := h.spanNamed(t, "webhook receive sivo")
	if d.SpanContext().TraceID().String() == attackerTrace || d.Parent().IsValid() {
		t.Errorf("the delivery span joined the sender's trace: trace %s, parent %v", d.SpanContext().TraceID(), d.Parent())
	}
}
