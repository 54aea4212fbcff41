package siro

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/core"
	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Sentinels matched with errors.Is. The status sentinels (ErrBadRequest to
// ErrServer) match an *Error by its StatusCode.
var (
	// ErrBadRequest matches 400 and 422 answers.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized matches 401 answers.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden matches 403 answers.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound matches 404 answers.
	ErrNotFound = errors.New("not found")
	// ErrConflict matches 409 answers.
	ErrConflict = errors.New("conflict")
	// ErrRateLimited matches 429 answers.
	ErrRateLimited = errors.New("rate limited")
	// ErrServer matches every 5xx answer.
	ErrServer = errors.New("server error")
	// ErrInvalidOption is wrapped by every error NewClient, NewHandler and
	// Middleware return for a bad option.
	//
	// It is webhook.ErrInvalidOption: one sentinel for a bad option in
	// every package of this module, whichever option failed.
	ErrInvalidOption = webhook.ErrInvalidOption
	// ErrInvalidRequest is wrapped by every error found before a request is
	// sent (a missing required field, an empty path parameter, ...).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrMissingCredential is returned, before any request is sent, when a
	// call needs a credential the client was not given.
	ErrMissingCredential = errors.New("missing credential")
	// ErrEmptyBody is wrapped by the DecodeError of a call whose 2xx
	// answer carried no result (empty body, 204, null, {"data": null}).
	ErrEmptyBody = errors.New("response has no result (empty body or null)")
	// ErrRedirectRefused is wrapped by the RequestError of a call that
	// Siro (or a proxy) redirected to another scheme, host or port.
	ErrRedirectRefused = errors.New("redirect to another origin refused")
	// ErrNotDeleted is wrapped by the error of a delete (or unlink) that
	// Siro answered 2xx with false: the request was accepted and nothing
	// was deleted (an id that no longer exists, for one).
	ErrNotDeleted = errors.New("nothing was deleted (Siro answered false)")
)

// vocab lets errors made by the internal HTTP layer match this package's
// sentinels with errors.Is (an immutable table, not state).
var vocab = core.NewVocabulary(
	core.ErrBadRequest, ErrBadRequest,
	core.ErrUnauthorized, ErrUnauthorized,
	core.ErrForbidden, ErrForbidden,
	core.ErrNotFound, ErrNotFound,
	core.ErrConflict, ErrConflict,
	core.ErrRateLimited, ErrRateLimited,
	core.ErrServer, ErrServer,
	core.ErrInvalidOption, ErrInvalidOption,
	core.ErrInvalidRequest, ErrInvalidRequest,
	core.ErrMissingCredential, ErrMissingCredential,
	core.ErrEmptyBody, ErrEmptyBody,
	core.ErrRedirectRefused, ErrRedirectRefused,
)

// Error is returned for every non-2xx answer, and for the 2xx answers of
// the CRM-link calls that carry {"error": ...}. Read it with errors.As;
// errors.Is matches it against the status sentinels (ErrNotFound, ...).
type Error struct {
	// Provider is "siro".
	Provider string
	// Operation is the SDK operation name, e.g. "Engagements.Get".
	Operation string
	// Method is the HTTP method.
	Method string
	// Route is the path template ("/v1/integrations/engagements/{id}"); it
	// never contains ids.
	Route string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Siro's machine-readable error code, when it sends one.
	Code string
	// Message is Siro's error message, when it sends one.
	Message string
	// Details holds structured details Siro attached, as raw JSON.
	Details json.RawMessage
	// Issues lists field-level validation problems (422 answers).
	Issues []Issue
	// RequestID is Siro's request identifier from the response headers.
	RequestID string
	// RetryAfter is the delay the server asked for, zero when it gave none.
	RetryAfter time.Duration
	// Header is the response header (credentials redacted).
	Header http.Header
	// Body is the start of the response body (at most 64 KiB, secrets the
	// call carried redacted).
	Body []byte
}

// Error returns one short line: provider, operation, method, route, status,
// code, message and request id.
func (e *Error) Error() string { return e.core().Error() }

// Is matches the status sentinels: ErrBadRequest (400, 422),
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrRateLimited
// and ErrServer (5xx).
func (e *Error) Is(target error) bool { return vocab.Is(e.core(), target) }

// Temporary reports whether retrying the same request later may succeed
// (408, 425, 429, 500, 502, 503, 504).
func (e *Error) Temporary() bool { return e.core().Temporary() }

func (e *Error) core() *core.APIError {
	c := &core.APIError{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
		StatusCode: e.StatusCode, Code: e.Code, Message: e.Message, Details: e.Details, RequestID: e.RequestID,
		RetryAfter: e.RetryAfter, Header: e.Header, Body: e.Body}
	for _, i := range e.Issues {
		c.Issues = append(c.Issues, core.Issue(i))
	}
	return c
}

// Issue is one entry of a 422 validation error's "issues" list.
type Issue struct {
	// Path locates the field: strings for object keys, numbers for indexes.
	Path []any `json:"path,omitempty"`
	// Code is the validator's machine-readable code.
	Code string `json:"code,omitempty"`
	// Message is the human-readable description.
	Message string `json:"message,omitempty"`
	// Expected is the type the validator expected, when it reports one.
	Expected string `json:"expected,omitempty"`
	// Received is the type the validator received, when it reports one.
	Received string `json:"received,omitempty"`
}

// PathString renders Path as "a.b[0].c".
func (i Issue) PathString() string { return core.Issue(i).PathString() }

// DecodeError reports a 2xx answer that did not decode into the
// operation's result type, or carried no result (it then wraps
// ErrEmptyBody).
type DecodeError struct {
	// Provider is "siro".
	Provider string
	// Operation is the SDK operation name.
	Operation string
	// Method is the HTTP method.
	Method string
	// Route is the path template.
	Route string
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the start of the body that failed to decode.
	Body []byte
	// Err is the JSON error, or ErrEmptyBody.
	Err error
}

// Error names the operation and the decoding error.
func (e *DecodeError) Error() string {
	return (&core.DecodeError{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
		StatusCode: e.StatusCode, Err: e.Err}).Error()
}

// Is matches this package's sentinels carried by Err (ErrEmptyBody, ...).
func (e *DecodeError) Is(target error) bool { return vocab.Is(e.Err, target) }

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// RequestError wraps a transport failure (DNS, connection refused, timeout,
// TLS, a refused redirect, the caller's context ending) with the call it
// belongs to.
type RequestError struct {
	// Provider is "siro".
	Provider string
	// Operation is the SDK operation name.
	Operation string
	// Method is the HTTP method.
	Method string
	// Route is the path template.
	Route string
	// Attempts is how many attempts were made.
	Attempts int
	// Err is the transport error.
	Err error
}

// Error names the call and the transport error.
func (e *RequestError) Error() string {
	return (&core.RequestError{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
		Attempts: e.Attempts, Err: e.Err}).Error()
}

// Is matches this package's sentinels carried by Err (ErrRedirectRefused,
// ...).
func (e *RequestError) Is(target error) bool { return vocab.Is(e.Err, target) }

// Unwrap returns Err.
func (e *RequestError) Unwrap() error { return e.Err }

// publicError turns the internal HTTP layer's error types into this
// package's, and makes every other error match this package's sentinels
// where it carries the internal ones.
func publicError(err error) error {
	switch e := err.(type) {
	case *core.APIError:
		out := &Error{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
			StatusCode: e.StatusCode, Code: e.Code, Message: e.Message, Details: e.Details, RequestID: e.RequestID,
			RetryAfter: e.RetryAfter, Header: e.Header, Body: e.Body}
		for _, i := range e.Issues {
			out.Issues = append(out.Issues, Issue(i))
		}
		return out
	case *core.DecodeError:
		return &DecodeError{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
			StatusCode: e.StatusCode, Body: e.Body, Err: e.Err}
	case *core.RequestError:
		return &RequestError{Provider: e.Provider, Operation: e.Operation, Method: e.Method, Route: e.Route,
			Attempts: e.Attempts, Err: e.Err}
	}
	return vocab.Wrap(err)
}

// optErr returns "siro: <where>: <problem>" wrapping ErrInvalidOption.
func optErr(where, format string, args ...any) error {
	return opterr.New("siro", where, ErrInvalidOption, format, args...)
}

// rePrefix turns an error of the internal HTTP layer or of package webhook
// into "siro: <where>: <problem>", keeping its errors.Is matches.
func rePrefix(where string, err error) error { return vocab.Wrap(opterr.Rewrap("siro", where, err, 0)) }

// Token is a user API access token a TokenFunc returns. It never prints
// its Value.
type Token struct {
	// Value is the access token sent in x-siro-auth-token.
	Value string
	// Expiry is when the token stops working; zero means unknown (the
	// token is then used until Siro answers 401).
	Expiry time.Time
}

// String never prints the token value.
func (t Token) String() string { return "Token{[redacted], expiry " + t.Expiry.String() + "}" }

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }
