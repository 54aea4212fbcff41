package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Auth yields the credential header for one request. Implementations must be
// safe for concurrent use.
type Auth interface {
	// Credential returns the header name and value to send.
	Credential(ctx context.Context) (name, value string, err error)
}

// Invalidator is implemented by Auth values that can drop a cached
// credential after the server rejected it with 401. The core then asks for
// a new credential and replays the request once.
type Invalidator interface {
	// Invalidate forgets value if it is still the cached credential.
	Invalidate(value string)
}

// headerAuth sends a fixed value in a fixed header.
type headerAuth struct{ name, value string }

func (h headerAuth) Credential(context.Context) (string, string, error) { return h.name, h.value, nil }

// String never prints the value.
func (h headerAuth) String() string { return h.name + ": [redacted]" }

// Bearer returns an Auth that sends "Authorization: Bearer <token>".
func Bearer(token string) Auth { return headerAuth{"Authorization", "Bearer " + token} }

// Header returns an Auth that sends "<name>: <value>", for APIs such as
// Siro's user API that read a custom header (x-siro-auth-token).
func Header(name, value string) Auth { return headerAuth{name, value} }

// Token is a credential with an expiry.
type Token struct {
	// Value is the secret.
	Value string
	// Expiry is when the token stops working; zero means it does not expire.
	Expiry time.Time
}

// String never prints the value.
func (t Token) String() string { return "Token{[redacted], expiry " + t.Expiry.String() + "}" }

// TokenFunc fetches a fresh token.
type TokenFunc func(ctx context.Context) (Token, error)

// RefreshingAuth caches a token from Fetch, refreshes it once for all
// concurrent callers shortly before it expires, and forgets it when a
// request is answered 401 (see Invalidator).
type RefreshingAuth struct {
	header string
	prefix string
	fetch  TokenFunc
	early  time.Duration
	clock  clock.Clock

	mu       sync.Mutex
	tok      Token
	valid    bool
	inflight *refresh
}

type refresh struct {
	done chan struct{}
	tok  Token
	err  error
}

// DefaultRefreshEarly is how long before expiry a token is refreshed.
const DefaultRefreshEarly = 2 * time.Minute

// NewRefreshingAuth returns an Auth that sends "<header>: <prefix><token>"
// with tokens from fetch. early is how long before expiry the token is
// refreshed (0 means DefaultRefreshEarly); c may be nil for the real clock.
func NewRefreshingAuth(header, prefix string, fetch TokenFunc, early time.Duration, c clock.Clock) (*RefreshingAuth, error) {
	if header == "" {
		return nil, fmt.Errorf("%w: refreshing auth needs a header name", ErrInvalidOption)
	}
	if fetch == nil {
		return nil, fmt.Errorf("%w: refreshing auth needs a token function", ErrInvalidOption)
	}
	if early < 0 {
		return nil, fmt.Errorf("%w: refresh margin %v is negative", ErrInvalidOption, early)
	}
	if early == 0 {
		early = DefaultRefreshEarly
	}
	return &RefreshingAuth{header: header, prefix: prefix, fetch: fetch, early: early, clock: clock.Or(c)}, nil
}

// Credential returns the cached token, fetching a new one when there is none
// or it is about to expire. Concurrent callers share one fetch; each waits
// only as long as its own context allows.
func (a *RefreshingAuth) Credential(ctx context.Context) (string, string, error) {
	tok, err := a.Token(ctx)
	if err != nil {
		return "", "", err
	}
	return a.header, a.prefix + tok.Value, nil
}

// Token returns a valid token, refreshing it if needed.
func (a *RefreshingAuth) Token(ctx context.Context) (Token, error) {
	a.mu.Lock()
	if a.valid && (a.tok.Expiry.IsZero() || a.clock.Now().Before(a.tok.Expiry.Add(-a.early))) {
		t := a.tok
		a.mu.Unlock()
		return t, nil
	}
	r := a.inflight
	if r == nil {
		r = &refresh{done: make(chan struct{})}
		a.inflight = r
		// The fetch outlives any one caller's cancellation: other callers
		// are waiting on it.
		go a.run(context.WithoutCancel(ctx), r)
	}
	a.mu.Unlock()
	select {
	case <-r.done:
		return r.tok, r.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

func (a *RefreshingAuth) run(ctx context.Context, r *refresh) {
	tok, err := a.fetch(ctx)
	if err == nil && tok.Value == "" {
		err = errors.New("token source returned an empty token")
	}
	a.mu.Lock()
	if err == nil {
		a.tok, a.valid = tok, true
	}
	a.inflight = nil
	a.mu.Unlock()
	r.tok, r.err = tok, err
	close(r.done)
}

// Invalidate forgets the cached token if its header value is value, so the
// next Credential call fetches a new one.
func (a *RefreshingAuth) Invalidate(value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.valid && a.prefix+a.tok.Value == value {
		a.valid = false
	}
}

// String never prints the token.
func (a *RefreshingAuth) String() string { return "RefreshingAuth{" + a.header + ": [redacted]}" }
