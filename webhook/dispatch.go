package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// Event is one verified delivery as a Dispatcher hands it to handlers. Raw
// always holds the exact bytes that were verified.
type Event struct {
	// Type is the event type the TypeFunc read.
	Type string
	// Raw is the raw body.
	Raw []byte
	// Delivery is what verification established (zero if the dispatcher
	// runs without the middleware).
	Delivery Delivery
	// Header is the request header.
	Header http.Header
}

// Decode unmarshals the raw body into v.
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Raw, v) }

// TypeFunc reads the event type of a delivery.
type TypeFunc func(r *http.Request, body []byte) (string, error)

// JSONTypeField reads the event type from a top-level string field.
func JSONTypeField(field string) TypeFunc {
	return func(_ *http.Request, body []byte) (string, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return "", wrap(ErrMalformed, "body is not a JSON object: %v", err)
		}
		raw, ok := m[field]
		if !ok {
			return "", wrap(ErrMalformed, "body has no %q field", field)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", wrap(ErrMalformed, "field %q is not a string", field)
		}
		return s, nil
	}
}

// HandlerFunc handles one event. Returning an error answers 500 so the
// sender retries.
type HandlerFunc func(ctx context.Context, ev *Event) error

// DecodeError reports a verified body that does not decode into the type
// registered for its event type.
type DecodeError struct {
	Type string
	Err  error
}

// Error names the event type and the JSON problem.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("webhook: decoding %q event: %v", e.Type, e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes a DecodeError match ErrMalformed.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// HandlerError wraps an error returned by a user handler.
type HandlerError struct {
	Type string
	Err  error
}

// Error names the event type and the handler's error.
func (e *HandlerError) Error() string { return fmt.Sprintf("webhook: %q handler: %v", e.Type, e.Err) }

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// Dispatcher routes verified events to typed handlers by event type. An
// event type with no handler goes to the Unknown handler (or is
// acknowledged), never to an error. Register handlers before serving.
type Dispatcher struct {
	typeOf   TypeFunc
	handlers map[string]HandlerFunc
	unknown  HandlerFunc
	maxBody  int64
	onError  func(r *http.Request, err error)
	logger   *slog.Logger
}

// NewDispatcher returns a Dispatcher that reads event types with typeOf.
func NewDispatcher(typeOf TypeFunc) *Dispatcher {
	return &Dispatcher{typeOf: typeOf, handlers: map[string]HandlerFunc{}, maxBody: DefaultMaxBodyBytes}
}

// Handle registers fn for eventType, decoding the body into a new T.
func Handle[T any](d *Dispatcher, eventType string, fn func(ctx context.Context, payload *T, ev *Event) error) {
	d.handlers[eventType] = func(ctx context.Context, ev *Event) error {
		p := new(T)
		if err := json.Unmarshal(ev.Raw, p); err != nil {
			return &DecodeError{Type: ev.Type, Err: err}
		}
		if err := fn(ctx, p, ev); err != nil {
			return &HandlerError{Type: ev.Type, Err: err}
		}
		return nil
	}
}

// HandleRaw registers fn for eventType without decoding.
func (d *Dispatcher) HandleRaw(eventType string, fn HandlerFunc) {
	d.handlers[eventType] = func(ctx context.Context, ev *Event) error {
		if err := fn(ctx, ev); err != nil {
			return &HandlerError{Type: ev.Type, Err: err}
		}
		return nil
	}
}

// Unknown registers the fallback for event types with no handler.
func (d *Dispatcher) Unknown(fn HandlerFunc) { d.unknown = fn }

// OnError receives every error the dispatcher answers with a non-2xx.
func (d *Dispatcher) OnError(fn func(r *http.Request, err error)) { d.onError = fn }

// SetLogger logs failed deliveries at error level.
func (d *Dispatcher) SetLogger(l *slog.Logger) { d.logger = l }

// Dispatch routes ev to its handler. It is the framework-agnostic entry
// point; ServeHTTP uses it.
func (d *Dispatcher) Dispatch(ctx context.Context, ev *Event) error {
	if h, ok := d.handlers[ev.Type]; ok {
		return h(ctx, ev)
	}
	if d.unknown != nil {
		if err := d.unknown(ctx, ev); err != nil {
			return &HandlerError{Type: ev.Type, Err: err}
		}
	}
	return nil
}

// ServeHTTP reads the body (restored by Middleware), dispatches it, and
// answers 200 on success, 400 when the body does not decode, and 500 when a
// handler fails so the sender retries.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := ReadBody(w, r, d.maxBody)
	if err == nil {
		var t string
		if t, err = d.typeOf(r, body); err == nil {
			dl, _ := DeliveryFrom(r.Context())
			err = d.Dispatch(r.Context(), &Event{Type: t, Raw: body, Delivery: dl, Header: r.Header})
		}
	}
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	status := http.StatusInternalServerError
	if _, isHandler := err.(*HandlerError); !isHandler {
		if s := StatusCode(err); s != 500 {
			status = s
		}
	}
	if d.onError != nil {
		d.onError(r, err)
	}
	if d.logger != nil {
		d.logger.LogAttrs(r.Context(), slog.LevelError, "webhook delivery failed",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
	}
	http.Error(w, http.StatusText(status), status)
}
