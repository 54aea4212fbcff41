package webhooktest

import (
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
)

// NewFromMiddleware is a Subject.New for a receiver that is only a
// middleware (webhook.Middleware, or a vendor's Middleware): the handler
// it wraps reports each delivery to b.Event with the verified event's ID
// (webhook.EventFrom) and answers 500 when that fails. Pass the same mw as
// Subject.Middleware. It wires no Unknown callback, since a middleware has
// none: leave Subject.Unknown nil.
func NewFromMiddleware(mw func(opts ...webhook.Option) (func(http.Handler) http.Handler, error)) func(b Behaviour, opts ...webhook.Option) (http.Handler, error) {
	return func(b Behaviour, opts ...webhook.Option) (http.Handler, error) {
		wrap, err := mw(opts...)
		if err != nil {
			return nil, err
		}
		return wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ev, _ := webhook.EventFrom(r.Context())
			if err := b.Event(r.Context(), ev.ID); err != nil {
				http.Error(w, "failed", http.StatusInternalServerError)
			}
		})), nil
	}
}
