// Package apierr holds the sentinel errors of this module's REST clients
// (siro, engrami). Each vendor package exports the same values under the
// same names (siro.ErrNotFound is apierr.ErrNotFound is
// engrami.ErrNotFound), so one errors.Is test serves every client:
//
//	if errors.Is(err, siro.ErrNotFound) { ... } // also matches engrami's 404s
//
// It is internal: users match the names the vendor packages export. A bad
// option wraps webhook.ErrInvalidOption in every package.
package apierr

import "errors"

// ErrBadRequest matches a 400 or 422 answer (an *Error of siro or engrami
// by its StatusCode).
var ErrBadRequest = errors.New("bad request")

// ErrUnauthorized matches a 401 answer: the credential is missing, wrong
// or expired.
var ErrUnauthorized = errors.New("unauthorized")

// ErrForbidden matches a 403 answer: the credential may not do this.
var ErrForbidden = errors.New("forbidden")

// ErrNotFound matches a 404 answer of the vendor's API.
var ErrNotFound = errors.New("not found")

// ErrConflict matches a 409 answer.
var ErrConflict = errors.New("conflict")

// ErrRateLimited matches a 429 answer; the *Error's RetryAfter says how
// long the vendor asked to wait.
var ErrRateLimited = errors.New("rate limited")

// ErrServer matches every 5xx answer.
var ErrServer = errors.New("server error")

// ErrInvalidRequest is wrapped by every error found before a request is
// sent: a missing required field, an empty path parameter, a body that
// cannot be encoded.
var ErrInvalidRequest = errors.New("invalid request")

// ErrMissingCredential is returned, before any request is sent, when a
// call needs a credential the client was not given.
var ErrMissingCredential = errors.New("missing credential")

// ErrEmptyBody is wrapped by the DecodeError of a call whose 2xx answer
// carried no result (empty body, 204, null, {"data": null}) where the
// operation needs one.
var ErrEmptyBody = errors.New("response has no result (empty body or null)")

// ErrRedirectRefused is wrapped by the RequestError of a call that the
// server (or a proxy) redirected to another scheme, host or port; the
// redirect is never followed, so a credential never leaves its origin.
var ErrRedirectRefused = errors.New("redirect to another origin refused")

// ErrCursorLoop is wrapped by the error a list iterator yields last when
// the server's cursors cycle: a page names as the next cursor one that an
// earlier page named, so the list cannot be read to its end.
var ErrCursorLoop = errors.New("pagination cursors loop")
