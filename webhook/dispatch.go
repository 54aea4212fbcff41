package webhook

import (
	"context"
	"fmt"
)

// HandlerFunc handles one verified event. Every vendor's Unknown callback
// has this type: it receives event types the vendor package does not know
// (including types the vendor adds later) with the raw bytes on ev.Raw.
// Returning an error answers 500 so the sender retries.
type HandlerFunc func(ctx context.Context, ev *Event) error

// DecodeError reports a verified body that does not decode into the type
// its event type documents.
type DecodeError struct {
	// Type is the event type.
	Type string
	// Err is the JSON error.
	Err error
}

// Error names the event type and the JSON problem.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("webhook: decoding %q event: %v", e.Type, e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes a DecodeError match ErrMalformed.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }
