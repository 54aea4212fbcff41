package siro

import "github.com/callcrm/callcrm-go/internal/core"

// Error is the error returned for every non-2xx answer (and for 2xx answers
// that carry an error). Use errors.As to read its fields.
type Error = core.APIError

// Issue is one entry of a 422 validation error's "issues" list.
type Issue = core.Issue

// DecodeError reports a response that did not decode.
type DecodeError = core.DecodeError

// RequestError wraps a transport failure.
type RequestError = core.RequestError

// RetryPolicy says how often and how long to retry (see WithRetry).
type RetryPolicy = core.RetryPolicy

// RetryInfo describes one upcoming retry, for RetryPolicy.OnRetry.
type RetryInfo = core.RetryInfo

// Sentinels matched with errors.Is.
var (
	ErrBadRequest        = core.ErrBadRequest
	ErrUnauthorized      = core.ErrUnauthorized
	ErrForbidden         = core.ErrForbidden
	ErrNotFound          = core.ErrNotFound
	ErrConflict          = core.ErrConflict
	ErrRateLimited       = core.ErrRateLimited
	ErrServer            = core.ErrServer
	ErrInvalidOption     = core.ErrInvalidOption
	ErrInvalidRequest    = core.ErrInvalidRequest
	ErrMissingCredential = core.ErrMissingCredential
	// ErrEmptyBody is wrapped by the DecodeError of a call whose 2xx
	// answer carried no result (empty body, 204, null, {"data": null}).
	ErrEmptyBody = core.ErrEmptyBody
	// ErrRedirectRefused is wrapped by the RequestError of a call that
	// Siro (or a proxy) redirected to another scheme, host or port.
	ErrRedirectRefused = core.ErrRedirectRefused
)
