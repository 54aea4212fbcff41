package core

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/apierr"
	"github.com/callcrm/callcrm-go/webhook"
)

// The sentinels this layer wraps are the public values siro and engrami
// export (package apierr's, and webhook.ErrInvalidOption), so its errors
// match them with errors.Is without any mapping.
var (
	ErrInvalidRequest    = apierr.ErrInvalidRequest
	ErrMissingCredential = apierr.ErrMissingCredential
	ErrInvalidOption     = webhook.ErrInvalidOption
)

// Issue is one field-level validation problem reported by an API (for
// example an entry of a Zod "issues" list). The vendor packages' Issue
// (internal/gen/resterrors) has the same fields and documents them; JSON
// keys match the field names case-insensitively.
type Issue struct {
	Path                              []any
	Code, Message, Expected, Received string
}

// PathString renders Path as "a.b[0].c".
func (i Issue) PathString() string {
	var b strings.Builder
	for _, p := range i.Path {
		switch v := p.(type) {
		case float64:
			fmt.Fprintf(&b, "[%d]", int(v))
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// APIError is returned for every non-2xx response, and for 2xx responses a
// vendor uses to report an error inside the body. The vendor packages turn
// it into their own Error, which documents each field: first the call and
// what the transport saw (Header credentials redacted, Body capped at
// MaxErrorBody), then what the vendor's body said.
type APIError struct {
	Provider, Operation, Method, Route string
	StatusCode                         int
	Header                             http.Header
	Body                               []byte
	RetryAfter                         time.Duration
	Code, Message, RequestID           string
	Details                            json.RawMessage
	Issues                             []Issue
}

// MaxErrorBody caps how much of an error response body is kept.
const MaxErrorBody = 64 << 10

// Error returns one short line: provider, method, route, status and message.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Route)
	fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" [")
		b.WriteString(e.Code)
		b.WriteByte(']')
	}
	msg := e.Message
	if msg == "" && len(e.Issues) > 0 {
		msg = e.Issues[0].Message
		if p := e.Issues[0].PathString(); p != "" {
			msg = p + ": " + msg
		}
		if len(e.Issues) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(e.Issues)-1)
		}
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(msg, 200))
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// Is matches the status sentinels.
func (e *APIError) Is(target error) bool { return StatusIs(e.StatusCode, target) }

// StatusIs reports whether an answer with HTTP status code matches the
// status sentinel target (package apierr): ErrBadRequest (400, 422), ErrUnauthorized (401),
// ErrForbidden (403), ErrNotFound (404), ErrConflict (409), ErrRateLimited
// (429) or ErrServer (5xx). Other targets never match.
func StatusIs(code int, target error) bool {
	switch target {
	case apierr.ErrBadRequest:
		return code == http.StatusBadRequest || code == http.StatusUnprocessableEntity
	case apierr.ErrUnauthorized:
		return code == http.StatusUnauthorized
	case apierr.ErrForbidden:
		return code == http.StatusForbidden
	case apierr.ErrNotFound:
		return code == http.StatusNotFound
	case apierr.ErrConflict:
		return code == http.StatusConflict
	case apierr.ErrRateLimited:
		return code == http.StatusTooManyRequests
	case apierr.ErrServer:
		return code >= 500 && code <= 599
	}
	return false
}

// Temporary reports whether retrying the same request later may succeed.
func (e *APIError) Temporary() bool { return retryableStatus(e.StatusCode) }

// DecodeError reports a response body (Body, its start) that could not be
// decoded into the operation's result type (Err).
type DecodeError struct {
	Provider, Operation, Method, Route string
	StatusCode                         int
	Body                               []byte
	Err                                error
}

// Error names the provider and operation.
func (e *DecodeError) Error() string {
	op := e.Operation
	if op == "" {
		op = e.Method + " " + e.Route
	}
	return fmt.Sprintf("%s: %s: decoding %d response: %v", e.Provider, op, e.StatusCode, e.Err)
}

// Unwrap returns the JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// RequestError wraps a transport failure (DNS, connection refused, timeout,
// TLS), Err, after Attempts attempts, with the call it belongs to.
type RequestError struct {
	Provider, Operation, Method, Route string
	Attempts                           int
	Err                                error
}

// Error names the call and the underlying error.
func (e *RequestError) Error() string {
	op := e.Operation
	if op != "" {
		op += ": "
	}
	return fmt.Sprintf("%s: %s%s %s: %v", e.Provider, op, e.Method, e.Route, e.Err)
}

// Unwrap returns the transport error.
func (e *RequestError) Unwrap() error { return e.Err }
