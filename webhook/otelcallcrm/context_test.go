package otelcallcrm_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
)

type ctxKey struct{}

// TestDeliveryContext: the context a delivery's stages run under carries
// the caller's values, its cancellation and the delivery's span, and a
// stage's span is the delivery span's child.
func TestDeliveryContext(t *testing.T) {
	h := newHarness(t)
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	ctx, end := h.obs.Start(parent, webhook.StageDelivery, webhook.Observation{Provider: "sivo", Receiver: "default"})
	if got := ctx.Value(ctxKey{}); got != "v" {
		t.Fatalf("caller's value lost: %v", got)
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		t.Fatal("no span in the delivery's context")
	}
	// A derived context (as the engine's callback deadline) still finds
	// the delivery.
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	_, endCb := h.obs.Start(cctx, webhook.StageCallback, webhook.Observation{Provider: "sivo", Receiver: "default", DeliveryID: "evt_1", EventType: "call.ended"})
	endCb(webhook.Result{Outcome: webhook.OutcomeProcessed, DeliveryID: "evt_1", EventType: "call.ended"})
	ccancel()
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("cancellation not propagated: %v", ctx.Err())
	}
	end(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: 200})
	cb := h.spanNamed(t, "webhook callback")
	if cb.Parent().SpanID() != sc.SpanID() {
		t.Fatalf("callback span's parent %v, want the delivery span %v", cb.Parent().SpanID(), sc.SpanID())
	}
	d := h.spanNamed(t, "webhook receive sivo")
	if got, _ := attr(d, otelcallcrm.AttrDeliveryID); got.AsString() != "evt_1" {
		t.Fatalf("delivery span did not learn the id from its callback: %q", got.String())
	}
}

// TestStageWithoutDelivery: a stage started outside any delivery (an
// inbox calling the engine directly) is a root span and still counts its
// metrics under the Observation's provider.
func TestStageWithoutDelivery(t *testing.T) {
	h := newHarness(t)
	_, end := h.obs.Start(context.Background(), webhook.StageCallback, webhook.Observation{Provider: "siro", Receiver: "r1", EventType: "call.ended"})
	end(webhook.Result{Outcome: webhook.OutcomeFailed, Err: errors.New("boom")})
	s := h.spanNamed(t, "webhook callback")
	if s.Parent().IsValid() {
		t.Fatal("a stage outside a delivery has a parent")
	}
	if got := oteltest.Count(h.Collect(t), otelcallcrm.MetricCallbackDuration, map[string]any{"callcrm.provider": "siro", "callcrm.receiver": "r1", "callcrm.outcome": "failed"}); got != 1 {
		t.Fatalf("callback duration count %d, want 1", got)
	}
}
