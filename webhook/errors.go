package webhook

import (
	"errors"
	"fmt"
)

// Sentinel errors. Verification errors wrap one of them with context; use
// errors.Is to tell them apart.
var (
	// ErrMissingHeader: a required header is absent or empty.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrMalformed: a header or signature cannot be parsed (bad hex or
	// base64, wrong prefix, wrong length, non-numeric timestamp,
	// duplicated header), or a verified body cannot be (a DecodeError, a
	// vendor's parse error, a delivery without an id). The receivers
	// answer 400.
	ErrMalformed = errors.New("webhook: malformed delivery")
	// ErrNoMatchingSignature: the signature is well formed but no secret
	// produces it.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")
	// ErrTimestampTooOld: the signed timestamp is older than the tolerance.
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")
	// ErrTimestampTooNew: the signed timestamp is further in the future
	// than the tolerance.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")
	// ErrPayloadTooLarge: the body exceeds the configured limit.
	ErrPayloadTooLarge = errors.New("webhook: payload too large")
	// ErrEmptyBody: the delivery has no body.
	ErrEmptyBody = errors.New("webhook: empty body")
	// ErrMethodNotAllowed: the request is not a POST.
	ErrMethodNotAllowed = errors.New("webhook: method not allowed")
	// ErrDuplicate: the delivery was already processed successfully.
	ErrDuplicate = errors.New("webhook: duplicate delivery")
	// ErrInProgress: the same delivery is being processed right now by
	// another request; the sender should retry later.
	ErrInProgress = errors.New("webhook: delivery in progress")
	// ErrInvalidSecret: a verifier or signer was constructed with a secret
	// it cannot use.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
	// ErrInvalidOption: an option has a value that cannot work.
	ErrInvalidOption = errors.New("webhook: invalid option")
	// ErrReadTimeout: the body did not arrive within the read timeout.
	ErrReadTimeout = errors.New("webhook: body read timed out")
	// ErrUnsupportedEncoding: the body has a Content-Encoding other than
	// gzip or identity.
	ErrUnsupportedEncoding = errors.New("webhook: unsupported content encoding")
	// ErrStoreUnavailable: the dedupe store or inbox failed or did not
	// answer in time; the receiver fails closed so the sender retries.
	ErrStoreUnavailable = errors.New("webhook: store unavailable")
	// ErrNotOwner: a Commit, Extend or Release named a reservation that is
	// no longer held by that token (it expired and another delivery took
	// it, or it was never taken).
	ErrNotOwner = errors.New("webhook: reservation not held")
	// ErrInboxFull: the inbox cannot take the delivery now.
	ErrInboxFull = errors.New("webhook: inbox full")
	// ErrShuttingDown: the receiver or inbox is shutting down.
	ErrShuttingDown = errors.New("webhook: shutting down")
	// ErrCallbackTimeout: the callback did not return before its deadline.
	ErrCallbackTimeout = errors.New("webhook: callback deadline exceeded")
	// ErrCallbackFailed: the user's callback returned an error or panicked.
	ErrCallbackFailed = errors.New("webhook: callback failed")
	// ErrUnknownTenant: the request names no tenant, or one a
	// SecretSource does not know (404). A SecretSource returns an error
	// wrapping it for a tenant it does not serve.
	ErrUnknownTenant = errors.New("webhook: unknown tenant")
	// ErrSecretSource: the SecretSource failed (or returned a secret the
	// vendor's scheme cannot use); the receiver answers 503 with
	// Retry-After so the vendor retries, never 401.
	ErrSecretSource = errors.New("webhook: secret source unavailable")
)

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// StatusCode maps a receive error to the HTTP status the receiver answers
// with: 405 wrong method, 404 unknown tenant, 408 body too slow, 413 too large, 415 unknown
// content encoding, 400 malformed or empty, 401 missing signature, no match
// or stale timestamp, 200 for a duplicate already processed, 409 for a
// delivery in progress, 503 when a store, the inbox, the secret source or the receiver cannot
// take it now, 504 when the callback missed its deadline, 500 for anything
// else (a failed callback).
func StatusCode(err error) int {
	switch {
	case err == nil:
		return 200
	case errors.As(err, new(*CallbackError)):
		return 500 // whatever the callback's own error wraps
	case errors.Is(err, ErrMethodNotAllowed):
		return 405
	case errors.Is(err, ErrUnknownTenant):
		return 404
	case errors.Is(err, ErrReadTimeout):
		return 408
	case errors.Is(err, ErrPayloadTooLarge):
		return 413
	case errors.Is(err, ErrUnsupportedEncoding):
		return 415
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrInboxFull), errors.Is(err, ErrShuttingDown), errors.Is(err, ErrSecretSource):
		return 503
	case errors.Is(err, ErrCallbackTimeout):
		return 504
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrEmptyBody):
		return 400
	case errors.Is(err, ErrMissingHeader), errors.Is(err, ErrNoMatchingSignature),
		errors.Is(err, ErrTimestampTooOld), errors.Is(err, ErrTimestampTooNew):
		return 401
	case errors.Is(err, ErrDuplicate):
		return 200
	case errors.Is(err, ErrInProgress):
		return 409
	}
	return 500
}
