package webhooktest

import (
	"encoding/json"
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

// MiddlewareSubject is the conformance Subject of the generic
// webhook.Middleware for a sender this module does not know: HMAC-SHA256
// of the body in header (hex after prefix, as webhook.NewHMAC checks)
// with secret, JSON bodies {"id": ..., "type": "thing.happened"} keyed by
// their "id", no timestamp. Set Stores (or other fields) on the result to
// run it on your own stores.
func MiddlewareSubject(header, prefix, secret string) (Subject, error) {
	v, err := webhook.NewHMAC(header, prefix, secret)
	if err != nil {
		return Subject{}, err
	}
	signer, err := webhook.NewHMACSigner(header, prefix, secret)
	if err != nil {
		return Subject{}, err
	}
	mw := func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
		return webhook.Middleware(v, append(opts, webhook.WithKey(webhook.JSONKey("id")))...)
	}
	return Subject{
		New:        NewFromMiddleware(mw),
		Middleware: mw,
		Sign: func(body []byte) http.Header {
			h := http.Header{"Content-Type": {"application/json"}}
			_ = signer.SignHeader(h, body)
			return h
		},
		Body: func(id string) []byte {
			b, _ := json.Marshal(map[string]string{"id": id, "type": "thing.happened"})
			return b
		},
		Untimed: true,
		Secret:  secret,
	}, nil
}
