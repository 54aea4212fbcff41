package otelcallcrm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
)

// The tests in this file call the Observer exactly the way the receive
// engine, the inboxes and the clients do (stage by stage, Inject in the
// enqueue stage, Extract on the worker); engine_test.go drives it through
// a real receiver.

const (
	secret     = "whsec_sivo-signing-secret-4f1c2d" // what a receiver is configured with
	apiKey     = "sk_live_siro_api_key_9a8b7c"      // what a client is configured with
	deliveryID = "evt_01J9ZK3Q"
)

var base = webhook.Observation{Provider: "sivo", Receiver: "default"}

// enqueueDelivery is a delivery in enqueue mode as the engine reports it:
// Delivery > Verify, Store reserve, Enqueue (Inject inside), Store
// commit; it returns the carrier the inbox stored.
func enqueueDelivery(ctx context.Context, o webhook.Observer, tenant string) map[string]string {
	ob := base
	ob.Tenant = tenant
	dctx, endDelivery := o.Start(ctx, webhook.StageDelivery, ob)
	_, endVerify := o.Start(dctx, webhook.StageVerify, ob)
	endVerify(webhook.Result{Outcome: webhook.OutcomeOK, DeliveryID: deliveryID, Duration: time.Millisecond})
	ob.DeliveryID, ob.EventType = deliveryID, "call.ended"
	ob.Op = "reserve"
	_, endStore := o.Start(dctx, webhook.StageStore, ob)
	endStore(webhook.Result{Outcome: webhook.OutcomeOK})
	ob.Op = ""
	ectx, endEnqueue := o.Start(dctx, webhook.StageEnqueue, ob)
	carrier := o.Inject(ectx)
	endEnqueue(webhook.Result{Outcome: webhook.OutcomeEnqueued, DeliveryID: deliveryID, EventType: "call.ended"})
	ob.Op = "commit"
	_, endStore = o.Start(dctx, webhook.StageStore, ob)
	endStore(webhook.Result{Outcome: webhook.OutcomeOK})
	endDelivery(webhook.Result{Outcome: webhook.OutcomeEnqueued, Status: http.StatusOK, DeliveryID: deliveryID, EventType: "call.ended"})
	return carrier
}

// runJob is an inbox worker running the stored delivery on another
// goroutine with a fresh context (another replica, say).
func runJob(o webhook.Observer, carrier map[string]string, tenant string, callback error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := o.Extract(context.Background(), carrier)
		ob := webhook.Observation{Provider: "sivo", Receiver: "default", Tenant: tenant, DeliveryID: deliveryID, EventType: "call.ended", Attempt: 1}
		jctx, endJob := o.Start(ctx, webhook.StageJob, ob)
		_, endCallback := o.Start(jctx, webhook.StageCallback, ob)
		res := webhook.Result{Outcome: webhook.OutcomeProcessed, DeliveryID: deliveryID, EventType: "call.ended", Duration: 20 * time.Millisecond}
		job := res
		if callback != nil {
			res = webhook.Result{Outcome: webhook.OutcomeFailed, Reason: "error", Err: callback, Duration: 20 * time.Millisecond}
			job = webhook.Result{Outcome: webhook.OutcomeDeadLettered, Reason: "error", Err: callback}
		}
		endCallback(res)
		endJob(job)
	}()
	<-done
}

func TestDeliveryThroughInboxIsOneTrace(t *testing.T) {
	h := newHarness(t)
	carrier := enqueueDelivery(context.Background(), h.obs, "acme")
	if carrier["traceparent"] == "" {
		t.Fatalf("Inject stored no traceparent: %v", carrier)
	}
	runJob(h.obs, carrier, "acme", nil)

	req := h.spanNamed(t, "webhook receive sivo")
	verify := h.spanNamed(t, "webhook verify")
	enqueue := h.spanNamed(t, "webhook enqueue")
	job := h.spanNamed(t, "webhook job sivo")
	callback := h.spanNamed(t, "webhook callback")
	reserve := h.spanNamed(t, "webhook store reserve")

	if req.Parent().IsValid() {
		t.Errorf("the request span has a parent %v; want a root", req.Parent())
	}
	wantKind(t, req, trace.SpanKindServer)
	wantKind(t, enqueue, trace.SpanKindProducer)
	wantKind(t, job, trace.SpanKindConsumer)
	wantParent(t, verify, req)
	wantParent(t, reserve, req)
	wantParent(t, enqueue, req)
	wantParent(t, job, enqueue)
	wantParent(t, callback, job)
	for _, s := range h.Ended() {
		if s.SpanContext().TraceID() != req.SpanContext().TraceID() {
			t.Errorf("span %q is in trace %s, not the request's %s", s.Name(), s.SpanContext().TraceID(), req.SpanContext().TraceID())
		}
	}

	wantAttr(t, req, otelcallcrm.AttrProvider, "sivo")
	wantAttr(t, req, otelcallcrm.AttrReceiver, "default")
	wantAttr(t, req, otelcallcrm.AttrTenant, "acme")
	wantAttr(t, req, otelcallcrm.AttrDeliveryID, deliveryID) // learned from the verify stage
	wantAttr(t, req, otelcallcrm.AttrEventType, "call.ended")
	wantAttr(t, req, otelcallcrm.AttrOutcome, "enqueued")
	wantAttr(t, req, "http.response.status_code", 200)
	if len(reserve.Attributes()) != 0 || reserve.Status().Code != codes.Unset {
		t.Errorf("a store op that did its work has attributes %v, status %v; want none (its name says it)", reserve.Attributes(), reserve.Status())
	}
	wantAttr(t, job, otelcallcrm.AttrDeliveryID, deliveryID)
	wantAttr(t, job, otelcallcrm.AttrJobAttempt, 1)
	wantAttr(t, callback, otelcallcrm.AttrOutcome, "processed")

	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.provider": "sivo", "callcrm.outcome": "enqueued", "http.response.status_code": 200}); got != 1 {
		t.Errorf("deliveries{enqueued,200} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.provider": "sivo", "callcrm.outcome": "processed"}); got != 1 {
		t.Errorf("inbox jobs{processed} = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricCallbackDuration, map[string]any{"callcrm.outcome": "processed"}); got != 1 {
		t.Errorf("callback duration count = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricCallbackDuration, nil); got != 0.02 {
		t.Errorf("callback duration sum = %v s, want the reported 0.02", got)
	}
	// Tenant is not a metric attribute by default; delivery ids never are.
	for _, name := range []string{otelcallcrm.MetricDeliveries, otelcallcrm.MetricInboxJobs, otelcallcrm.MetricCallbackDuration, otelcallcrm.MetricStoreDuration} {
		for _, p := range oteltest.Points(rm, name) {
			for _, k := range []string{"callcrm.tenant", "callcrm.delivery.id", "callcrm.event.type"} {
				if _, ok := p.Attrs.Value(attributeKey(k)); ok {
					t.Errorf("%s has the attribute %s: %v", name, k, p.Attrs.ToSlice())
				}
			}
		}
	}
	h.AssertNoSecret(t, secret, apiKey)
}

func TestDeadLetteredJob(t *testing.T) {
	h := newHarness(t)
	carrier := enqueueDelivery(context.Background(), h.obs, "")
	runJob(h.obs, carrier, "", errors.New("crm: contact not found"))

	job := h.spanNamed(t, "webhook job sivo")
	if job.Status().Code != codes.Error || job.Status().Description != "crm: contact not found" {
		t.Errorf("job status %+v, want Error with the callback's message", job.Status())
	}
	cb := h.spanNamed(t, "webhook callback")
	var msgs []string
	for _, e := range cb.Events() {
		if e.Name == "exception" {
			for _, kv := range e.Attributes {
				msgs = append(msgs, string(kv.Key)+"="+kv.Value.String())
			}
		}
	}
	if fmt.Sprint(msgs) != "[exception.message=crm: contact not found]" {
		t.Errorf("callback exception event attributes %v, want the message only", msgs)
	}
	rm := h.Collect(t)
	oteltest.WantSum(t, rm, otelcallcrm.MetricInboxDeadLetters, map[string]any{"callcrm.provider": "sivo"}, 1)
	oteltest.WantSum(t, rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.outcome": "dead_lettered"}, 1)
}

// refuse is a forged delivery as the engine reports it: the verify stage
// refused with a reason, the delivery answered 401.
func refuse(o webhook.Observer, reason string, deliveryReason bool) {
	dctx, endDelivery := o.Start(context.Background(), webhook.StageDelivery, base)
	_, endVerify := o.Start(dctx, webhook.StageVerify, base)
	err := fmt.Errorf("%w: X-Sivo-Signature", webhook.ErrNoMatchingSignature)
	endVerify(webhook.Result{Outcome: webhook.OutcomeRefused, Reason: reason, Err: err})
	res := webhook.Result{Outcome: webhook.OutcomeRefused, Status: http.StatusUnauthorized, Err: err}
	if deliveryReason {
		res.Reason = reason
	}
	endDelivery(res)
}

func TestForgeryCountsVerificationFailure(t *testing.T) {
	h := newHarness(t)
	refuse(h.obs, "signature", true)
	refuse(h.obs, "signature", false) // the reason known from the verify stage only
	refuse(h.obs, "timestamp", true)

	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricVerificationFailures, map[string]any{"callcrm.provider": "sivo", "callcrm.reason": "signature"}); got != 2 {
		t.Errorf("verification failures{signature} = %v, want 2", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricVerificationFailures, map[string]any{"callcrm.reason": "timestamp"}); got != 1 {
		t.Errorf("verification failures{timestamp} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "refused", "http.response.status_code": 401}); got != 3 {
		t.Errorf("deliveries{refused,401} = %v, want 3", got)
	}
	for _, s := range h.Ended() {
		switch s.Name() {
		case "webhook receive sivo":
			// A 4xx is the sender's fault: the server span is not an error.
			if s.Status().Code == codes.Error {
				t.Errorf("request span of a refused delivery has status Error")
			}
			if _, ok := attr(s, otelcallcrm.AttrReason); !ok {
				t.Errorf("request span of a refused delivery has no reason")
			}
		case "webhook verify":
			if s.Status().Code != codes.Error {
				t.Errorf("refused verify span has status %v, want Error", s.Status())
			}
		}
	}
}

func TestInlineDeliveryOutcomes(t *testing.T) {
	h := newHarness(t)
	deliver := func(callback webhook.Result, status int, delivery webhook.Outcome) {
		ob := base
		dctx, endDelivery := h.obs.Start(context.Background(), webhook.StageDelivery, ob)
		_, endVerify := h.obs.Start(dctx, webhook.StageVerify, ob)
		endVerify(webhook.Result{Outcome: webhook.OutcomeOK, DeliveryID: deliveryID})
		ob.DeliveryID, ob.EventType = deliveryID, "call.ended"
		if callback.Outcome != "" {
			_, endCallback := h.obs.Start(dctx, webhook.StageCallback, ob)
			endCallback(callback)
		}
		endDelivery(webhook.Result{Outcome: delivery, Status: status, Err: callback.Err, Reason: callback.Reason})
	}
	deliver(webhook.Result{Outcome: webhook.OutcomeProcessed}, 200, webhook.OutcomeProcessed)
	deliver(webhook.Result{}, 200, webhook.OutcomeDuplicate)
	deliver(webhook.Result{Outcome: webhook.OutcomePanicked, Reason: "panic", Err: errors.New("webhook: callback failed: panic: boom")}, 500, webhook.OutcomePanicked)

	rm := h.Collect(t)
	for _, c := range []struct {
		outcome string
		status  int
	}{{"processed", 200}, {"duplicate", 200}, {"panicked", 500}} {
		if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": c.outcome, "http.response.status_code": c.status}); got != 1 {
			t.Errorf("deliveries{%s,%d} = %v, want 1", c.outcome, c.status, got)
		}
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricDuplicates, map[string]any{"callcrm.provider": "sivo", "callcrm.stage": "delivery"}); got != 1 {
		t.Errorf("duplicates = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricDeliveryDuration, map[string]any{"callcrm.provider": "sivo"}); got != 3 {
		t.Errorf("delivery duration count = %v, want 3", got)
	}
	var errored int
	for _, s := range h.Ended() {
		if s.Name() == "webhook receive sivo" && s.Status().Code == codes.Error {
			errored++
		}
	}
	if errored != 1 {
		t.Errorf("%d request spans with status Error, want 1 (the 500)", errored)
	}
}

func TestTenantAttributeIsOptIn(t *testing.T) {
	h := newHarness(t, otelcallcrm.WithTenantAttribute(func(tenant string) string {
		if tenant == "acme" {
			return "large"
		}
		return "other"
	}))
	carrier := enqueueDelivery(context.Background(), h.obs, "acme")
	runJob(h.obs, carrier, "acme", nil)
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.tenant": "large"}); got != 1 {
		t.Errorf("deliveries{tenant=large} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.tenant": "large"}); got != 1 {
		t.Errorf("inbox jobs{tenant=large} = %v, want 1", got)
	}
	if got := oteltest.Matching(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.tenant": "acme"}); len(got) != 0 {
		t.Errorf("the raw tenant is a metric attribute: %v", got)
	}
}

// A client call retried after a 503: one call span, two attempt spans
// under it, the planned wait on the first.
func TestClientRetryAfter503(t *testing.T) {
	h := newHarness(t)
	ctx, endCall := h.obs.StartCall(context.Background(), "siro", "ListCalls")
	h.obs.TokenMint(ctx, 30*time.Millisecond, nil)
	h.obs.LimiterWait(ctx, 250*time.Millisecond)
	_, endAttempt := h.obs.StartAttempt(ctx, http.MethodGet, 1)
	endAttempt(503, errors.New("siro: 503 Service Unavailable"), 2*time.Second)
	h.obs.LimiterWait(ctx, 0)
	_, endAttempt = h.obs.StartAttempt(ctx, http.MethodGet, 2)
	endAttempt(200, nil, 0)
	endCall(200, nil)

	callSpan := h.spanNamed(t, "siro ListCalls")
	wantKind(t, callSpan, trace.SpanKindClient)
	wantAttr(t, callSpan, otelcallcrm.AttrService, "siro")
	wantAttr(t, callSpan, otelcallcrm.AttrOperation, "ListCalls")
	wantAttr(t, callSpan, "http.response.status_code", 200)
	if callSpan.Status().Code == codes.Error {
		t.Errorf("the call succeeded but its span is an error: %v", callSpan.Status())
	}
	var attempts []sdktrace.ReadOnlySpan
	for _, s := range h.Ended() {
		if s.Name() == "GET" {
			attempts = append(attempts, s)
			wantParent(t, s, callSpan)
			wantKind(t, s, trace.SpanKindClient)
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempt spans, want 2: %s", len(attempts), oteltest.SpanNames(h.Ended()))
	}
	first, second := attempts[0], attempts[1]
	wantAttr(t, first, otelcallcrm.AttrAttempt, 1)
	wantAttr(t, first, "http.response.status_code", 503)
	wantAttr(t, first, otelcallcrm.AttrRetryWait, 2.0)
	wantAttr(t, first, "error.type", "503")
	if first.Status().Code != codes.Error {
		t.Errorf("the 503 attempt's status is %v, want Error", first.Status())
	}
	wantAttr(t, second, otelcallcrm.AttrAttempt, 2)
	wantAttr(t, second, "http.request.resend_count", 1)
	wantAttr(t, second, "http.response.status_code", 200)
	if _, ok := attr(second, otelcallcrm.AttrRetryWait); ok {
		t.Errorf("the last attempt has a retry wait")
	}

	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRequests, map[string]any{"callcrm.service": "siro", "callcrm.operation": "ListCalls", "http.response.status_code": 200}); got != 1 {
		t.Errorf("client requests{siro,ListCalls,200} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRetries, map[string]any{"callcrm.service": "siro", "callcrm.operation": "ListCalls"}); got != 1 {
		t.Errorf("client retries = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricHTTPClientDuration, map[string]any{"http.request.method": "GET", "http.response.status_code": 503, "callcrm.service": "siro"}); got != 1 {
		t.Errorf("http.client.request.duration{503} count = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricRateLimitWait, map[string]any{"callcrm.service": "siro"}); got != 2 {
		t.Errorf("rate limit wait count = %v, want 2", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricRateLimitWait, nil); got != 0.25 {
		t.Errorf("rate limit wait sum = %v s, want 0.25", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricTokenMints, map[string]any{"callcrm.service": "siro", "callcrm.outcome": "ok"}); got != 1 {
		t.Errorf("token mints = %v, want 1", got)
	}
	h.AssertNoSecret(t, secret, apiKey)
}

func TestClientCallFailure(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	ctx, endCall := h.obs.StartCall(ctx, "engrami", "GetTranscript")
	_, endAttempt := h.obs.StartAttempt(ctx, http.MethodPost, 1)
	cancel()
	endAttempt(0, ctx.Err(), 0)
	endCall(0, fmt.Errorf("engrami: GetTranscript: %w", context.Canceled))
	h.obs.TokenMint(context.Background(), time.Second, errors.New("engrami: token: 401 Unauthorized"))

	s := h.spanNamed(t, "engrami GetTranscript")
	wantAttr(t, s, "error.type", "canceled")
	if _, ok := attr(s, "http.response.status_code"); ok {
		t.Errorf("a call with no response has a status code attribute")
	}
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRequests, map[string]any{"callcrm.service": "engrami", "error.type": "canceled"}); got != 1 {
		t.Errorf("client requests{canceled} = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricTokenMints, map[string]any{"callcrm.outcome": "error"}); got != 1 {
		t.Errorf("token mints{error} = %v, want 1", got)
	}
}

func TestInboxDepthGauge(t *testing.T) {
	depth := int64(7)
	var fail error
	h := newHarness(t, otelcallcrm.WithInboxDepth(func(context.Context) (int64, error) { return depth, fail }))
	if got := oteltest.Sum(h.Collect(t), otelcallcrm.MetricInboxDepth, nil); got != 7 {
		t.Errorf("inbox depth = %v, want 7", got)
	}
	depth = 3
	if got := oteltest.Sum(h.Collect(t), otelcallcrm.MetricInboxDepth, nil); got != 3 {
		t.Errorf("inbox depth = %v, want 3", got)
	}
	if err := h.obs.Close(); err != nil {
		t.Fatal(err)
	}
	if got := oteltest.Points(h.Collect(t), otelcallcrm.MetricInboxDepth); len(got) != 0 {
		t.Errorf("inbox depth still reported after Close: %v", got)
	}
	if err := h.obs.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestInjectExtract(t *testing.T) {
	h := newHarness(t)
	if c := h.obs.Inject(context.Background()); c != nil {
		t.Errorf("Inject without a span = %v, want nil", c)
	}
	if ctx := h.obs.Extract(context.Background(), nil); trace.SpanContextFromContext(ctx).IsValid() {
		t.Errorf("Extract(nil) made a span context")
	}
	if ctx := h.obs.Extract(context.Background(), map[string]string{"traceparent": "garbage"}); trace.SpanContextFromContext(ctx).IsValid() {
		t.Errorf("Extract(garbage) made a span context")
	}
	ctx, end := h.obs.Start(context.Background(), webhook.StageDelivery, base)
	c := h.obs.Inject(ctx)
	end(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: 200})
	got := trace.SpanContextFromContext(h.obs.Extract(context.Background(), c))
	want := trace.SpanContextFromContext(ctx)
	if !got.IsRemote() || got.TraceID() != want.TraceID() || got.SpanID() != want.SpanID() {
		t.Errorf("Extract(Inject) = %v, want %v remote", got, want)
	}

	// Extracting the same trace again inside the job keeps the job's span
	// as the parent (an inbox and the engine may both extract).
	jctx, endJob := h.obs.Start(h.obs.Extract(context.Background(), c), webhook.StageJob, base)
	again := h.obs.Extract(jctx, c)
	if !trace.SpanContextFromContext(again).Equal(trace.SpanContextFromContext(jctx)) {
		t.Errorf("a second Extract of the same trace replaced the job's span")
	}
	endJob(webhook.Result{Outcome: webhook.OutcomeProcessed})

	// A custom propagator is used, not the global one.
	h2 := newHarness(t, otelcallcrm.WithPropagator(propagation.TraceContext{}))
	ctx, end = h2.obs.Start(context.Background(), webhook.StageDelivery, base)
	defer end(webhook.Result{})
	if c := h2.obs.Inject(ctx); len(c) != 1 || c["traceparent"] == "" {
		t.Errorf("Inject with TraceContext only = %v", c)
	}
}

func TestOptionsValidated(t *testing.T) {
	for name, opt := range map[string]otelcallcrm.Option{
		"WithTracerProvider":  otelcallcrm.WithTracerProvider(nil),
		"WithMeterProvider":   otelcallcrm.WithMeterProvider(nil),
		"WithPropagator":      otelcallcrm.WithPropagator(nil),
		"WithTenantAttribute": otelcallcrm.WithTenantAttribute(nil),
		"WithInboxDepth":      otelcallcrm.WithInboxDepth(nil),
	} {
		_, err := otelcallcrm.New(opt)
		if !errors.Is(err, webhook.ErrInvalidOption) {
			t.Errorf("%s(nil): error %v, want ErrInvalidOption", name, err)
			continue
		}
		if !containsWord(err.Error(), name) {
			t.Errorf("%s(nil): error %q does not name the option", name, err)
		}
	}
	// A nil option is bad input, as in every other constructor of the
	// SDK (siro.NewClient, webhook.NewMemoryInbox, riverinbox.New...).
	if _, err := otelcallcrm.New(otelcallcrm.WithTenantAttribute(func(string) string { return "" }), nil); !errors.Is(err, webhook.ErrInvalidOption) || !containsWord(err.Error(), "New: option 1 is nil") {
		t.Errorf("New(nil option): error %v, want ErrInvalidOption naming option 1", err)
	}
}

// An unsampled trace still propagates (the job continues the request's
// unsampled trace) and still counts metrics.
func TestUnsampled(t *testing.T) {
	h := newHarness(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(h.Spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	obs, err := otelcallcrm.New(otelcallcrm.WithTracerProvider(tp), otelcallcrm.WithMeterProvider(h.MP))
	if err != nil {
		t.Fatal(err)
	}
	carrier := enqueueDelivery(context.Background(), obs, "")
	if carrier["traceparent"] == "" {
		t.Fatalf("no traceparent for an unsampled trace")
	}
	runJob(obs, carrier, "", nil)
	if n := len(h.Ended()); n != 0 {
		t.Errorf("%d spans recorded with NeverSample", n)
	}
	if got := oteltest.Sum(h.Collect(t), otelcallcrm.MetricInboxJobs, nil); got != 1 {
		t.Errorf("inbox jobs = %v, want 1", got)
	}
}

// A stage or delivery ended without a Duration is measured by the
// adapter: from the span's own start time when it records, from the clock
// when it does not. Runs on synctest's fake time, where the span's start
// and the adapter's clock both read the bubble's clock: the 5 ms slept
// are exactly 5 ms.
func TestDurationWithoutResultDuration(t *testing.T) {
	for name, sampler := range map[string]sdktrace.Sampler{"sampled": sdktrace.AlwaysSample(), "unsampled": sdktrace.NeverSample()} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, otelcallcrm.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))))
				ob := webhook.Observation{Provider: "sivo", Receiver: "default"}
				ctx, endDelivery := h.obs.Start(context.Background(), webhook.StageDelivery, ob)
				_, endCallback := h.obs.Start(ctx, webhook.StageCallback, ob)
				time.Sleep(5 * time.Millisecond) // fake time
				endCallback(webhook.Result{Outcome: webhook.OutcomeProcessed})
				endDelivery(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: http.StatusOK})
				rm := h.Collect(t)
				for _, m := range []string{otelcallcrm.MetricCallbackDuration, otelcallcrm.MetricDeliveryDuration} {
					if got := oteltest.Sum(rm, m, nil); got != 0.005 {
						t.Errorf("%s = %vs, want the 5ms slept", m, got)
					}
				}
			})
		})
	}
}

// rootlessSampler samples every span but those whose name starts with
// it (a delivery's, a client call's): the spans of their stages or
// attempts would be sampled if they were started.
type rootlessSampler string

func (r rootlessSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if strings.HasPrefix(p.Name, string(r)) {
		return sdktrace.SamplingResult{Decision: sdktrace.Drop}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
}
func (rootlessSampler) Description() string { return "rootless" }

// rootless is a harness and an Observer whose spans are recorded in it
// and sampled by rootlessSampler(prefix).
func rootless(t *testing.T, prefix string) (*harness, *otelcallcrm.Observer) {
	h := newHarness(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(rootlessSampler(prefix)), sdktrace.WithSpanProcessor(h.Spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	obs, err := otelcallcrm.New(otelcallcrm.WithTracerProvider(tp), otelcallcrm.WithMeterProvider(h.MP))
	if err != nil {
		t.Fatal(err)
	}
	return h, obs
}

// Inside a delivery whose span is not recorded, the stages start no span
// of their own (even where the sampler would sample one), and every stage
// metric, and the verify stage's refusal reason, are recorded as with a
// sampled trace.
func TestUnrecordedDeliveryStages(t *testing.T) {
	h, obs := rootless(t, "webhook receive")
	ob := webhook.Observation{Provider: "sivo", Receiver: "default"}

	// One processed delivery: store reserve, callback, store commit.
	ctx, endDelivery := obs.Start(context.Background(), webhook.StageDelivery, ob)
	for _, st := range []struct {
		stage webhook.Stage
		op    string
		out   webhook.Outcome
	}{{webhook.StageVerify, "", webhook.OutcomeOK}, {webhook.StageStore, "reserve", webhook.OutcomeOK},
		{webhook.StageCallback, "", webhook.OutcomeProcessed}, {webhook.StageStore, "commit", webhook.OutcomeOK}} {
		ob.Op = st.op
		sctx, end := obs.Start(ctx, st.stage, ob)
		if got := trace.SpanContextFromContext(sctx); !got.Equal(trace.SpanContextFromContext(ctx)) {
			t.Errorf("%s: stage context carries span %v, want the delivery's %v", st.stage, got.SpanID(), trace.SpanContextFromContext(ctx).SpanID())
		}
		end(webhook.Result{Outcome: st.out, Duration: 3 * time.Millisecond, DeliveryID: "evt_1", EventType: "call.ended"})
	}
	endDelivery(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: http.StatusOK, Duration: 20 * time.Millisecond})

	// One forgery: the reason learnt by the unrecorded verify stage
	// reaches the delivery's refusal count.
	ob.Op = ""
	ctx, endDelivery = obs.Start(context.Background(), webhook.StageDelivery, ob)
	_, end := obs.Start(ctx, webhook.StageVerify, ob)
	end(webhook.Result{Outcome: webhook.OutcomeRefused, Reason: "signature", Duration: time.Millisecond})
	endDelivery(webhook.Result{Outcome: webhook.OutcomeRefused, Status: http.StatusUnauthorized, Duration: time.Millisecond})

	if spans := h.Ended(); len(spans) != 0 {
		t.Errorf("spans recorded under unrecorded deliveries: %s", oteltest.SpanNames(spans))
	}
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricCallbackDuration, map[string]any{"callcrm.outcome": "processed"}); got != 0.003 {
		t.Errorf("callback duration = %v, want 0.003", got)
	}
	for _, op := range []string{"reserve", "commit"} {
		if got := oteltest.Count(rm, otelcallcrm.MetricStoreDuration, map[string]any{"callcrm.store.op": op}); got != 1 {
			t.Errorf("store %s measured %d times, want 1", op, got)
		}
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricVerificationFailures, map[string]any{"callcrm.reason": "signature"}); got != 1 {
		t.Errorf("verification failures (signature) = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, nil); got != 2 {
		t.Errorf("deliveries = %v, want 2", got)
	}
}

// A client call whose span is not recorded gets no attempt spans (even
// where the sampler would sample them); the attempts are measured as
// always.
func TestUnrecordedCallAttempts(t *testing.T) {
	h, obs := rootless(t, "siro ")
	ctx, end := obs.StartCall(context.Background(), "siro", "ListCalls")
	for attempt, status := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		_, endAttempt := obs.StartAttempt(ctx, http.MethodGet, attempt+1)
		endAttempt(status, nil, 0)
	}
	end(http.StatusOK, nil)
	if spans := h.Ended(); len(spans) != 0 {
		t.Errorf("spans recorded under an unrecorded call: %s", oteltest.SpanNames(spans))
	}
	rm := h.Collect(t)
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		if got := oteltest.Count(rm, otelcallcrm.MetricHTTPClientDuration, map[string]any{"http.response.status_code": status, "callcrm.service": "siro"}); got != 1 {
			t.Errorf("attempts answered %d measured %d times, want 1", status, got)
		}
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRetries, map[string]any{"callcrm.operation": "ListCalls"}); got != 1 {
		t.Errorf("retries = %v, want 1", got)
	}
}
