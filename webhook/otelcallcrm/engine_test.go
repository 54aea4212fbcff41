// These tests drive the adapter through the real receive engine: a SIVO
// handler built with webhook.WithObserver, served over loopback, signed by
// sivotest. They need webhook.WithObserver and webhook.WithInboxObserver
// (branch engine); remove the build tag when they are on main.

package otelcallcrm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

func callEnded(t testing.TB, id string) []byte {
	t.Helper()
	ev, err := sivotest.CallEnded(id, time.Now(), sivo.CallEnded{CallID: "call_1"})
	if err != nil {
		t.Fatal(err)
	}
	return ev.Raw
}

func deliver(t testing.TB, s *webhooktest.Sender, url string, body []byte) int {
	t.Helper()
	status, err := s.Deliver(context.Background(), url, body)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// serveSivo serves a SIVO handler whose CallEnded callback is onEnded,
// observed by h (and given opts), over loopback, and returns it and its URL.
func serveSivo(t *testing.T, h *harness, onEnded func(context.Context, *sivo.Event, *sivo.CallEnded) error, opts ...webhook.Option) (*sivo.Handler, string) {
	t.Helper()
	handler, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallEnded: onEnded}, append([]webhook.Option{webhook.WithObserver(h.obs)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return handler, srv.URL
}

// newSender is a SIVO test sender signing with key.
func newSender(t *testing.T, key string) *webhooktest.Sender {
	t.Helper()
	s, err := sivotest.NewSender(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// One SIVO delivery through an inbox is one trace: the request span, the
// enqueue span, the job span continuing it on the worker, and the
// callback span under the job.
func TestEngineDeliveryThroughInboxIsOneTrace(t *testing.T) {
	h := newHarness(t)
	inbox, err := webhook.NewMemoryInbox(8, 1, webhook.WithInboxObserver(h.obs))
	if err != nil {
		t.Fatal(err)
	}
	var called atomic.Int32
	handler, url := serveSivo(t, h, func(ctx context.Context, ev *sivo.Event, call *sivo.CallEnded) error {
		called.Add(1)
		if !trace.SpanContextFromContext(ctx).IsValid() {
			t.Error("the callback's context carries no span")
		}
		return nil
	}, webhook.WithInbox(inbox))
	sender := newSender(t, secret)
	if status := deliver(t, sender, url, callEnded(t, deliveryID)); status/100 != 2 {
		t.Fatalf("delivery answered %d", status)
	}
	// Shutdown waits for the worker: every span has ended after it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := handler.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inbox.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if called.Load() != 1 {
		t.Fatalf("callback ran %d times", called.Load())
	}

	req := h.spanNamed(t, "webhook receive sivo")
	enqueue := h.spanNamed(t, "webhook enqueue")
	job := h.spanNamed(t, "webhook job sivo")
	callback := h.spanNamed(t, "webhook callback")
	wantKind(t, req, trace.SpanKindServer)
	wantParent(t, enqueue, req)
	wantParent(t, job, enqueue)
	wantParent(t, callback, job)
	for _, s := range h.Ended() {
		if s.SpanContext().TraceID() != req.SpanContext().TraceID() {
			t.Errorf("span %q is in another trace: %s", s.Name(), oteltest.SpanNames(h.Ended()))
		}
	}
	wantAttr(t, req, otelcallcrm.AttrDeliveryID, deliveryID)
	wantAttr(t, req, otelcallcrm.AttrEventType, "call.ended")
	wantAttr(t, req, otelcallcrm.AttrOutcome, "enqueued")
	wantAttr(t, callback, otelcallcrm.AttrOutcome, "processed")

	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.provider": "sivo", "callcrm.outcome": "processed"}); got != 1 {
		t.Errorf("inbox jobs{processed} = %v, want 1", got)
	}
	h.AssertNoSecret(t, secret)
}

// Inline: verify, reserve, callback and commit under the request span; a
// redelivery is counted as a duplicate.
func TestEngineInlineDeliveryAndDuplicate(t *testing.T) {
	h := newHarness(t)
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { return nil })
	sender := newSender(t, secret)
	body := callEnded(t, deliveryID)
	for range 2 {
		if status := deliver(t, sender, url, body); status != http.StatusOK {
			t.Fatalf("delivery answered %d", status)
		}
	}
	callback := h.spanNamed(t, "webhook callback")
	var reqs int
	for _, s := range h.Ended() {
		if s.Name() == "webhook receive sivo" {
			reqs++
			if s.SpanContext().TraceID() == callback.SpanContext().TraceID() {
				wantParent(t, callback, s)
			}
		}
	}
	if reqs != 2 {
		t.Errorf("%d request spans, want 2", reqs)
	}
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "processed", "http.response.status_code": 200}); got != 1 {
		t.Errorf("deliveries{processed} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricDuplicates, map[string]any{"callcrm.provider": "sivo"}); got != 1 {
		t.Errorf("duplicates = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricCallbackDuration, map[string]any{"callcrm.provider": "sivo"}); got != 1 {
		t.Errorf("callback durations = %v, want 1", got)
	}
	h.AssertNoSecret(t, secret)
}

// A forgery is refused with 401, never reaches the callback, and counts
// as a verification failure with reason "signature".
func TestEngineForgeryCountsSignatureFailure(t *testing.T) {
	h := newHarness(t)
	var called atomic.Int32
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { called.Add(1); return nil })
	forger := newSender(t, "not-the-"+secret)
	if status := deliver(t, forger, url, callEnded(t, deliveryID)); status != http.StatusUnauthorized {
		t.Fatalf("forgery answered %d, want 401", status)
	}
	if called.Load() != 0 {
		t.Fatal("a forgery reached the callback")
	}
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricVerificationFailures, map[string]any{"callcrm.provider": "sivo", "callcrm.reason": "signature"}); got != 1 {
		t.Errorf("verification failures{signature} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "refused", "http.response.status_code": 401}); got != 1 {
		t.Errorf("deliveries{refused,401} = %v, want 1", got)
	}
	verify := h.spanNamed(t, "webhook verify")
	wantAttr(t, verify, otelcallcrm.AttrReason, "signature")
	h.AssertNoSecret(t, secret, "not-the-"+secret)
}

// A failing callback answers 500, marks the request span failed with the
// error's message, and nothing secret is exported.
func TestEngineCallbackError(t *testing.T) {
	h := newHarness(t)
	_, url := serveSivo(t, h, func(context.Context, *sivo.Event, *sivo.CallEnded) error { return errors.New("crm down") })
	sender := newSender(t, secret)
	if status := deliver(t, sender, url, callEnded(t, deliveryID)); status != http.StatusInternalServerError {
		t.Fatalf("answered %d, want 500", status)
	}
	req := h.spanNamed(t, "webhook receive sivo")
	wantAttr(t, req, otelcallcrm.AttrOutcome, "failed")
	wantAttr(t, req, "http.response.status_code", 500)
	rm := h.Collect(t)
	if got := oteltest.Count(rm, otelcallcrm.MetricCallbackDuration, map[string]any{"callcrm.outcome": "failed"}); got != 1 {
		t.Errorf("callback durations{failed} = %v, want 1", got)
	}
	h.AssertNoSecret(t, secret)
}
