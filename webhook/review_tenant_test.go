package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReviewTenantFromDeliveryWinsOverOuterContext: a receiver's callback
// context (and a Middleware's request context) carries the tenant whose
// secret verified the delivery. An application that called
// ContextWithTenant further out (its router, from an unverified path or
// host) must not have that tenant reported instead: the innermost tenant
// is the delivery's, and a delivery without one (fixed secrets) has none.
func TestReviewTenantFromDeliveryWinsOverOuterContext(t *testing.T) {
	outer := ContextWithTenant(context.Background(), "from-router")
	cb := &eventContext{Context: outer, ce: ctxEvent{ev: &Event{Tenant: "acme"}}}
	tenant, ok := TenantFrom(cb)
	assert.True(t, ok)
	assert.Equal(t, "acme", tenant, "the verified delivery's tenant")

	fixed := &eventContext{Context: outer, ce: ctxEvent{ev: &Event{}}}
	tenant, ok = TenantFrom(fixed)
	assert.False(t, ok, "a delivery verified with fixed secrets has no tenant (got %q)", tenant)

	inner := ContextWithTenant(cb, "set-in-callback")
	tenant, _ = TenantFrom(inner)
	assert.Equal(t, "set-in-callback", tenant, "ContextWithTenant inside the callback still wins")
}
