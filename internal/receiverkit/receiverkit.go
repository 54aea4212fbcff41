// Package receiverkit is what every vendor package's receiver wrapper
// shares: building the one webhook engine for NewHandler and Middleware
// from the vendor's Spec, and routing a parsed event through the
// vendor's table of callbacks. It knows no vendor; the vendor packages
// give it their facts.
package receiverkit

import (
	"context"
	"net/http"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Build returns the receiver a vendor's constructor where ("NewHandler",
// "Middleware") builds from s: with secrets, s.Verifier is
// s.NewVerifier(secrets); without, the secrets come from
// webhook.WithSecretSource. Errors are the vendor's (s.Provider) and
// name no secret.
func Build[T any](where string, secrets []string, s webhook.Spec[T], opts []webhook.Option) (*webhook.Receiver, error) {
	if len(secrets) > 0 {
		v, err := s.NewVerifier(secrets)
		if err != nil {
			return nil, opterr.Rewrap(s.Provider, where, err, len(secrets))
		}
		s.Verifier = v
	}
	r, err := webhook.NewReceiver(s, opts...)
	return r, opterr.Rewrap(s.Provider, where, err, len(secrets))
}

// Middleware is a vendor's Middleware from its receiver: r's Wrap, or
// err.
func Middleware(r *webhook.Receiver, err error) (func(http.Handler) http.Handler, error) {
	if err != nil {
		return nil, err
	}
	return r.Wrap, nil
}

// Router sends a vendor's parsed events to the callbacks one Callbacks
// value holds, resolved once from the vendor's table of routes.
type Router[K comparable, E any, F ~func(context.Context, E) error] struct {
	table   map[K]F
	unknown webhook.HandlerFunc
}

// NewRouter resolves routes (event type to the Callbacks field for it)
// for cb, and unknown (the Callbacks field for other types). A nil cb
// (Middleware) routes nothing.
func NewRouter[K comparable, C any, E any, F ~func(context.Context, E) error](routes map[K]func(*C) F, cb *C, unknown func(*C) webhook.HandlerFunc) *Router[K, E, F] {
	rt := &Router[K, E, F]{}
	if cb == nil {
		return rt
	}
	rt.table, rt.unknown = make(map[K]F, len(routes)), unknown(cb)
	for t, pick := range routes {
		rt.table[t] = pick(cb)
	}
	return rt
}

// Route runs the callback for typ with ev, or the unknown callback with
// wev for a type the routes do not know; a nil callback acknowledges.
// known reports whether the routes know typ (and so whether ev is the
// vendor's typed event).
func (rt *Router[K, E, F]) Route(ctx context.Context, wev *webhook.Event, typ K, ev E) (known bool, err error) {
	f, known := rt.table[typ]
	switch {
	case !known && rt.unknown != nil:
		return false, rt.unknown(ctx, wev)
	case f != nil:
		return true, f(ctx, ev)
	}
	return known, nil
}
