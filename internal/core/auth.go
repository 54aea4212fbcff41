package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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
	// Invalidate forgets value if it is still the cached credential. It
	// reports whether a replay would get a new credential: false while the
	// source backs off after repeated rejections, and the 401 then stands.
	Invalidate(value string) (replay bool)
	// Confirm tells the source that value was accepted (a non-401 answer),
	// which ends a streak of rejections.
	Confirm(value string)
}

// headerAuth sends a fixed value in a fixed header.
type headerAuth struct{ name, value string }

func (h headerAuth) Credential(context.Context) (string, string, error) { return h.name, h.value, nil }

// String never prints the value.
func (h headerAuth) String() string { return h.name + ": [redacted]" }

// GoString is String, so %#v redacts too.
func (h headerAuth) GoString() string { return h.String() }

// Format prints String for every verb.
func (h headerAuth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, h.String()) }

// Bearer returns an Auth that sends "Authorization: Bearer <token>".
func Bearer(token string) Auth { return headerAuth{"Authorization", "Bearer " + token} }

// Header returns an Auth that sends "<name>: <value>", for APIs such as
// Siro's user API that read a custom header (x-siro-auth-token).
func Header(name, value string) Auth { return headerAuth{name, value} }

// Token is a credential (Value, the secret) with an Expiry; a zero Expiry
// means it does not expire. siro.Token mirrors it.
type Token struct {
	Value  string
	Expiry time.Time
}

// String never prints the value.
func (t Token) String() string { return "Token{[redacted], expiry " + t.Expiry.String() + "}" }

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// TokenFunc fetches a fresh token.
type TokenFunc func(ctx context.Context) (Token, error)

// RefreshingAuth caches a token from Fetch, refreshes it once for all
// concurrent callers shortly before it expires, and forgets it when a
// request is answered 401 (see Invalidator).
//
// A token that arrives already inside the refresh margin (a short expiry,
// or a local clock running ahead) is used until it really expires; one that
// arrives already expired by the local clock is used for one margin. After
// repeated fetch failures, or repeated 401s for freshly fetched tokens, the
// next fetch waits (MintBackoffBase doubling up to MintBackoffMax); a panic
// in the token function is recovered into an error for every waiter.
type RefreshingAuth struct {
	header string
	prefix string
	fetch  TokenFunc
	early  time.Duration
	clock  clock.Clock

	mu        sync.Mutex
	tok       Token
	have      bool      // tok holds a fetched token
	stale     bool      // tok was answered 401
	fetchedAt time.Time // when tok arrived
	refreshAt time.Time // when to fetch again (zero: never, the token does not expire)
	fails     int       // consecutive fetch failures
	rejects   int       // consecutive 401s for freshly fetched tokens
	notBefore time.Time // no fetch before this (backoff)
	lastErr   error
	inflight  *refresh

	rejecting atomic.Bool // rejects > 0, read without the lock by Confirm

	obs ClientObserver // set by observeMints; read under mu
}

// observeMints makes a report each token fetch to o (a client with an
// observer calls it at construction).
func (a *RefreshingAuth) observeMints(o ClientObserver) {
	a.mu.Lock()
	a.obs = o
	a.mu.Unlock()
}

type refresh struct {
	done chan struct{}
	tok  Token
	err  error
}

// DefaultRefreshEarly is how long before expiry a token is refreshed.
const DefaultRefreshEarly = 2 * time.Minute

// Backoff between token fetches after repeated failures or rejections.
const (
	MintBackoffBase = time.Second
	MintBackoffMax  = time.Minute
)

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

func mintBackoff(n int) time.Duration {
	d := MintBackoffBase
	for i := 1; i < n && d < MintBackoffMax; i++ {
		d *= 2
	}
	return min(d, MintBackoffMax)
}

// usable reports whether the held token may still be sent; a.mu is held.
func (a *RefreshingAuth) usable(now time.Time) bool {
	return a.have && !a.stale && (a.tok.Expiry.IsZero() || now.Before(a.refreshAt) || now.Before(a.tok.Expiry))
}

// Token returns a valid token, refreshing it if needed.
func (a *RefreshingAuth) Token(ctx context.Context) (Token, error) {
	a.mu.Lock()
	now := a.clock.Now()
	if a.have && !a.stale && (a.refreshAt.IsZero() || now.Before(a.refreshAt)) {
		t := a.tok
		a.mu.Unlock()
		return t, nil
	}
	if a.inflight == nil && now.Before(a.notBefore) {
		// Backing off: a token still inside its lifetime, or one the server
		// rejected (it answers 401 again, without another fetch), is sent;
		// else the last failure is returned at once.
		t, have, err := a.tok, a.have && (a.stale || a.usable(now)), a.lastErr
		wait := a.notBefore.Sub(now)
		a.mu.Unlock()
		if have {
			return t, nil
		}
		return Token{}, fmt.Errorf("token source failed %s; next attempt in %v: %w", a.failureKind(), wait.Round(time.Millisecond), err)
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

func (a *RefreshingAuth) failureKind() string {
	if a.rejects > 1 {
		return "repeatedly (its tokens were answered 401)"
	}
	return "repeatedly"
}

// safeFetch calls the token function, turning a panic into an error.
func (a *RefreshingAuth) safeFetch(ctx context.Context) (tok Token, err error) {
	defer func() {
		if p := recover(); p != nil {
			tok, err = Token{}, fmt.Errorf("token source panicked: %v", p)
		}
	}()
	return a.fetch(ctx)
}

func (a *RefreshingAuth) run(ctx context.Context, r *refresh) {
	a.mu.Lock()
	o := a.obs
	a.mu.Unlock()
	start := time.Now()
	tok, err := a.safeFetch(ctx)
	if err == nil && tok.Value == "" {
		err = errors.New("token source returned an empty token")
	}
	if o != nil {
		observeTokenMint(ctx, o, time.Since(start), err)
	}
	a.mu.Lock()
	now := a.clock.Now()
	if err == nil {
		a.tok, a.have, a.stale, a.fetchedAt = tok, true, false, now
		a.fails, a.lastErr = 0, nil
		switch {
		case tok.Expiry.IsZero():
			a.refreshAt = time.Time{}
		case tok.Expiry.Add(-a.early).After(now):
			a.refreshAt = tok.Expiry.Add(-a.early)
		case tok.Expiry.After(now):
			// Already inside the margin: use it until it really expires.
			a.refreshAt = tok.Expiry
		default:
			// Already expired by our clock (skew): use it for one margin, or
			// until a 401 says otherwise, instead of fetching on every call.
			a.refreshAt = now.Add(a.early)
		}
	} else {
		a.fails++
		a.lastErr = err
		if a.fails >= 2 {
			a.notBefore = now.Add(mintBackoff(a.fails - 1))
		}
		if a.usable(now) {
			// A refresh inside the margin failed: the current token still works.
			tok, err = a.tok, nil
		}
	}
	a.inflight = nil
	a.mu.Unlock()
	r.tok, r.err = tok, err
	close(r.done)
}

// Invalidate forgets the cached token if its header value is value, so the
// next Credential call fetches a new one. When tokens are rejected right
// after they were fetched twice in a row, fetching backs off and Invalidate
// reports false: replaying would only send the same token again.
func (a *RefreshingAuth) Invalidate(value string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.have || a.prefix+a.tok.Value != value {
		return true // already replaced
	}
	now := a.clock.Now()
	if !a.stale {
		a.stale = true
		if now.Sub(a.fetchedAt) < a.early {
			a.rejects++
		} else {
			a.rejects = 1
		}
		a.rejecting.Store(true)
		if a.rejects >= 2 {
			a.lastErr = errors.New("tokens were answered 401")
			a.notBefore = now.Add(mintBackoff(a.rejects - 1))
		}
	}
	return !now.Before(a.notBefore)
}

// Confirm ends a streak of rejections once the current token was accepted.
func (a *RefreshingAuth) Confirm(value string) {
	if !a.rejecting.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.have && !a.stale && a.prefix+a.tok.Value == value {
		a.rejects = 0
		a.notBefore = time.Time{}
		a.rejecting.Store(false)
	}
}

// String never prints the token.
func (a *RefreshingAuth) String() string { return "RefreshingAuth{" + a.header + ": [redacted]}" }

// GoString is String, so %#v redacts too.
func (a *RefreshingAuth) GoString() string { return a.String() }

// Format prints String for every verb.
func (a *RefreshingAuth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// String names the provider and host, never the credential.
func (c *Client) String() string {
	return "core.Client{" + c.provider + " " + c.base + ", credential: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
