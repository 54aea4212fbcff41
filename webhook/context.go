package webhook

import "context"

// The delivery a context is about: what a callback, a Middleware's
// handler, Symbo's lookup function or an Engrami tool reads from its
// context.

type eventCtxKey struct{}

type ctxEvent struct {
	ev     *Event
	parsed any
}

// eventContext is a callback's (and a Middleware handler's) context: its
// parent, answering eventCtxKey with the delivery and tenantCtxKey with
// the delivery's tenant (one allocation, where context.WithValue and a
// *ctxEvent would be two).
type eventContext struct {
	context.Context
	ce ctxEvent
}

// Value answers eventCtxKey with the delivery, tenantCtxKey with its
// tenant ("" with fixed secrets: a ContextWithTenant further out is not
// the verified tenant) and any other key from the parent (its
// cancellation included).
func (c *eventContext) Value(key any) any {
	switch key.(type) {
	case eventCtxKey:
		return &c.ce
	case tenantCtxKey:
		return c.ce.ev.Tenant
	}
	return c.Context.Value(key)
}

// EventFrom returns the verified delivery a context is about: in every
// callback a receiver runs (a vendor's typed callbacks and Unknown, inline
// or from an inbox), and in the request context of the handler a
// Middleware wraps. The Event carries what the typed event does not: the
// tenant (Event.Tenant), which secret matched (Event.Delivery.SecretIndex),
// the kept headers and the raw body.
func EventFrom(ctx context.Context) (*Event, bool) {
	c, ok := ctx.Value(eventCtxKey{}).(*ctxEvent)
	if !ok {
		return nil, false
	}
	return c.ev, true
}

type tenantCtxKey struct{}

// ContextWithTenant returns a copy of ctx for which TenantFrom reports
// tenant. Symbo's contact lookup and Engrami's tool handlers set it for
// the function they call when a secret source resolved the request's
// tenant; use it to test such a function, or a callback, of your own.
func ContextWithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantCtxKey{}, tenant)
}

// TenantFrom returns the tenant (the account WithSecretSource's TenantFunc
// named) of the delivery or request ctx is about: in a receiver's
// callbacks and a Middleware's handler (Event.Tenant), and in the
// functions that Symbo's contact lookup and Engrami's tool handlers call.
// It returns false where there is none: fixed secrets, or a context that
// is not a delivery's. The innermost tenant wins: a delivery's, not one an
// application's own ContextWithTenant put further out.
func TenantFrom(ctx context.Context) (string, bool) {
	t, _ := ctx.Value(tenantCtxKey{}).(string)
	return t, t != ""
}

// ParsedFrom returns the vendor's typed event of the delivery ctx is
// about: in a receiver's callbacks and a vendor Middleware's handler
// (vendor packages wrap it in a typed EventFrom).
func ParsedFrom(ctx context.Context) (any, bool) {
	c, ok := ctx.Value(eventCtxKey{}).(*ctxEvent)
	if !ok {
		return nil, false
	}
	return c.parsed, true
}

// ParsedAs is ParsedFrom as a T: the vendor's typed event of the delivery
// ctx is about, in a receiver's callbacks and a vendor Middleware's
// handler (vendor packages' EventFrom functions are this).
func ParsedAs[T any](ctx context.Context) (T, bool) {
	p, ok := ParsedFrom(ctx)
	if !ok {
		var zero T
		return zero, false
	}
	v, ok := p.(T)
	return v, ok
}
