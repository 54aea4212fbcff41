package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// KeyFunc derives the dedupe key of a verified delivery, from a header or
// the payload. An error answers 400.
type KeyFunc func(ev *Event) (string, error)

// DefaultKey is Middleware's default: the signed delivery id where the
// scheme has one (Standard Webhooks), else "sha256:" and the hex SHA-256
// of the verified body, so a byte-identical redelivery is a duplicate and
// any different body is processed.
func DefaultKey(ev *Event) (string, error) {
	if ev.Delivery.ID != "" {
		return ev.Delivery.ID, nil
	}
	return BodyHash(ev.Raw), nil
}

// BodyHash returns "sha256:" and the hex SHA-256 of body.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DeliveryIDKey uses the verified delivery id (svix-id / webhook-id).
func DeliveryIDKey(ev *Event) (string, error) {
	if ev.Delivery.ID == "" {
		return "", wrap(ErrMalformed, "delivery has no id")
	}
	return ev.Delivery.ID, nil
}

// JSONKey uses a top-level string field of the body (a payload or event
// id); a body without it is malformed.
func JSONKey(field string) KeyFunc {
	return func(ev *Event) (string, error) {
		var m map[string]json.RawMessage
		var s string
		if json.Unmarshal(ev.Raw, &m) != nil || json.Unmarshal(m[field], &s) != nil || s == "" {
			return "", wrap(ErrMalformed, "body has no %q", field)
		}
		return s, nil
	}
}

// HeaderKey uses the value of a request header (e.g. "X-Sivo-Event-Id").
func HeaderKey(name string) KeyFunc {
	return func(ev *Event) (string, error) {
		v := ev.Header.Get(name)
		if v == "" {
			return "", wrap(ErrMissingHeader, "%s", name)
		}
		return v, nil
	}
}

// DeliveryFrom returns the verified delivery's signature facts from the
// request context of a wrapped handler.
func DeliveryFrom(ctx context.Context) (Delivery, bool) {
	ev, ok := EventFrom(ctx)
	if !ok {
		return Delivery{}, false
	}
	return ev.Delivery, true
}

// Middleware returns net/http middleware for your own handler, running the
// receiver engine's read, verify and dedupe steps: POST only (405), body
// bounded (413) and timed (408), gzip decoded (415 for other encodings),
// verified with v before anything parses it (400, 401), then next is
// called with r.Body restored to the verified bytes and the delivery in
// the context (EventFrom). The delivery key (WithKey, default DefaultKey) is reserved first: a 2xx from next commits it,
// anything else (or a panic, answered 500) releases it so the sender's
// retry goes through. 1xx responses never count. next writes its own
// answer, so WithTimeout does not apply: bound next yourself.
func Middleware(v Verifier, opts ...Option) (func(http.Handler) http.Handler, error) {
	if v == nil {
		return nil, wrap(ErrInvalidOption, "Middleware: verifier is nil")
	}
	var s settings
	if err := apply(&s, opts); err != nil {
		return nil, err
	}
	key := s.key
	if key == nil {
		key = DefaultKey
	}
	r, err := newReceiver(Spec[any]{
		Provider: "webhook",
		Verifier: v,
		Parse: func(ev *Event) (any, error) {
			id, err := key(ev)
			ev.ID = id
			return nil, err
		},
		Handle: func(context.Context, *Event, any, Once) error { return nil },
	}, true, opts)
	if err != nil {
		return nil, err
	}
	return r.Wrap, nil
}

// wrapped runs next on the request's goroutine with the verified body and
// the delivery in its context, keeping the reservation alive while it
// runs; a 2xx from next commits, anything else releases.
func (d *delivery) wrapped(next http.Handler, res Reservation) result {
	r, ev := d.r, d.ev
	req := d.req.WithContext(&eventContext{Context: d.ctx, ce: ctxEvent{ev: ev, parsed: d.parsed}})
	req.Body = io.NopCloser(bytes.NewReader(ev.Raw))
	rec := &statusRecorder{ResponseWriter: d.w}
	lease := r.keepAlive(res)
	returned := false
	defer func() {
		if !returned { // runtime.Goexit in next: let the retry through
			r.release(d.ctx, ev, lease.stop())
		}
	}()
	out := r.serveNext(rec, req, ev, next)
	returned = true
	res = lease.stop()
	out.status = rec.status
	if out.err == nil && rec.status >= 300 {
		// The wrapped handler answered the delivery itself, but a failed
		// delivery still gets the one log line (and error hook call) with
		// the same keys as every other failure.
		out.err = fmt.Errorf("%w: wrapped handler answered %d; the delivery is released for the retry", ErrCallbackFailed, rec.status)
	}
	r.finish(d.ctx, ev, res, out.err)
	return out
}

func (r *Receiver) serveNext(w *statusRecorder, req *http.Request, ev *Event, next http.Handler) (out result) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				out = result{aborted: true, err: fmt.Errorf("%w: wrapped handler aborted", ErrCallbackFailed)}
				return
			}
			out = result{panicked: true, err: fmt.Errorf("%w: wrapped handler panicked: %v", ErrCallbackFailed, p)}
			r.logPanic(req.Context(), "webhook: handler panicked", ev, p)
		}
	}()
	next.ServeHTTP(w, req)
	return result{}
}

// statusRecorder remembers the final status the handler wrote; 1xx
// informational responses are passed through and never count.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		s.ResponseWriter.WriteHeader(code)
		return
	}
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
