package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// DefaultMaxBodyBytes bounds a webhook body read by the middleware.
const DefaultMaxBodyBytes = 1 << 20

// KeyFunc derives the dedupe key of a verified delivery, from a header or
// the payload. An error answers 400.
type KeyFunc func(r *http.Request, d Delivery, body []byte) (string, error)

// DeliveryIDKey uses the verified delivery id (svix-id / webhook-id).
func DeliveryIDKey(_ *http.Request, d Delivery, _ []byte) (string, error) {
	if d.ID == "" {
		return "", wrap(ErrMalformed, "delivery has no id")
	}
	return d.ID, nil
}

// JSONKey uses a top-level string field of the body (a payload or event
// id); a body without it is malformed.
func JSONKey(field string) KeyFunc {
	return func(_ *http.Request, _ Delivery, body []byte) (string, error) {
		var m map[string]json.RawMessage
		var s string
		if json.Unmarshal(body, &m) != nil || json.Unmarshal(m[field], &s) != nil || s == "" {
			return "", wrap(ErrMalformed, "body has no %q", field)
		}
		return s, nil
	}
}

// HeaderKey uses the value of a request header (e.g. "X-Sivo-Event-Id").
func HeaderKey(name string) KeyFunc {
	return func(r *http.Request, _ Delivery, _ []byte) (string, error) {
		v := r.Header.Get(name)
		if v == "" {
			return "", wrap(ErrMissingHeader, "%s", name)
		}
		return v, nil
	}
}

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*mwConfig) error

type mwConfig struct {
	maxBody int64
	onError func(r *http.Request, err error)
	logger  *slog.Logger
	dedupe  Deduper
	key     KeyFunc
}

// WithMaxBodyBytes sets the body limit (default 1 MiB); larger bodies are
// answered 413.
func WithMaxBodyBytes(n int64) MiddlewareOption {
	return func(c *mwConfig) error {
		if n <= 0 {
			return wrap(ErrInvalidOption, "max body bytes %d must be positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithErrorHook receives every refused delivery's error (the client only
// ever sees a generic status text). nil is allowed and ignored.
func WithErrorHook(fn func(r *http.Request, err error)) MiddlewareOption {
	return func(c *mwConfig) error { c.onError = fn; return nil }
}

// WithLogger logs refused deliveries at warn level (no body, no secrets).
// nil is allowed and ignored.
func WithLogger(l *slog.Logger) MiddlewareOption {
	return func(c *mwConfig) error { c.logger = l; return nil }
}

// WithDedupe makes the middleware process each key once: a committed key
// answers 200 without calling the handler, a key in progress 409; the key
// is committed when the handler answers 2xx and released otherwise (or on
// panic), so the sender's retry goes through.
func WithDedupe(d Deduper, key KeyFunc) MiddlewareOption {
	return func(c *mwConfig) error {
		if d == nil || key == nil {
			return wrap(ErrInvalidOption, "dedupe needs a Deduper and a KeyFunc")
		}
		c.dedupe, c.key = d, key
		return nil
	}
}

// Middleware returns net/http middleware that accepts only POST, reads the
// body through http.MaxBytesReader, verifies it with v before anything
// parses it, and then calls next with r.Body restored to the same bytes and
// the Delivery in the request context (DeliveryFrom). Refused deliveries get
// a generic status text and never reach next.
func Middleware(v Verifier, opts ...MiddlewareOption) (func(http.Handler) http.Handler, error) {
	if v == nil {
		return nil, wrap(ErrInvalidOption, "verifier is nil")
	}
	c := mwConfig{maxBody: DefaultMaxBodyBytes}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, d, err := c.verify(w, r, v)
			if err != nil {
				c.refuse(w, r, err)
				return
			}
			r = r.WithContext(WithDelivery(r.Context(), d))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if c.dedupe == nil {
				next.ServeHTTP(w, r)
				return
			}
			c.serveOnce(w, r, d, body, next)
		})
	}, nil
}

func (c *mwConfig) verify(w http.ResponseWriter, r *http.Request, v Verifier) ([]byte, Delivery, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, Delivery{}, wrap(ErrMethodNotAllowed, "%s", r.Method)
	}
	body, err := ReadBody(w, r, c.maxBody)
	if err != nil {
		return nil, Delivery{}, err
	}
	if len(body) == 0 {
		return nil, Delivery{}, ErrEmptyBody
	}
	d, err := v.Verify(r.Header, body)
	return body, d, err
}

// ReadBody reads r.Body through http.MaxBytesReader; a body over limit is
// an error wrapping ErrPayloadTooLarge.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, wrap(ErrPayloadTooLarge, "content length %d exceeds %d bytes", r.ContentLength, limit)
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	defer rd.Close()
	n := r.ContentLength
	if n < 0 || n > limit {
		n = 512
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+1))
	if _, err := buf.ReadFrom(rd); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, wrap(ErrPayloadTooLarge, "body exceeds %d bytes", limit)
		}
		return nil, wrap(ErrMalformed, "reading body: %v", err)
	}
	return buf.Bytes(), nil
}

func (c *mwConfig) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusCode(err)
	if c.onError != nil {
		c.onError(r, err)
	}
	if c.logger != nil && status != http.StatusOK {
		c.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook refused",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
	}
	if status == http.StatusOK { // duplicate already processed: acknowledge
		w.WriteHeader(status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

func (c *mwConfig) serveOnce(w http.ResponseWriter, r *http.Request, d Delivery, body []byte, next http.Handler) {
	ctx := r.Context()
	key, err := c.key(r, d, body)
	if err != nil {
		c.refuse(w, r, err)
		return
	}
	if err := c.dedupe.Reserve(ctx, key); err != nil {
		if !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrInProgress) {
			// The store failed: fail closed so the sender retries.
			err = &storeError{err}
		}
		c.refuse(w, r, err)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	committed := false
	defer func() {
		if !committed {
			// Handler failed or panicked: let the retry through.
			_ = c.dedupe.Release(context.WithoutCancel(ctx), key)
		}
	}()
	next.ServeHTTP(rec, r)
	if rec.status == 0 || rec.status < 300 {
		if err := c.dedupe.Commit(context.WithoutCancel(ctx), key); err == nil {
			committed = true
		}
	}
}

type storeError struct{ err error }

func (e *storeError) Error() string { return "webhook: dedupe store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// statusRecorder remembers the status the handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
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
