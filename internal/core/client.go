package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/apierr"
	"github.com/callcrm/callcrm-go/internal/clock"
)

// Config configures a Client. The zero value of every field has a sensible
// default; New validates the rest.
type Config struct {
	// Provider names the vendor in errors and logs ("siro").
	Provider string
	// BaseURL is the API root; its path is kept and a trailing slash dropped.
	BaseURL string
	// Auth yields the credential per request; nil means the client has no
	// credential and every call fails with ErrMissingCredential.
	Auth Auth
	// CredentialName names the missing credential in that error
	// ("org token: use siro.WithOrgToken").
	CredentialName string
	// UserAgent overrides the User-Agent header (default UserAgent).
	UserAgent string
	// HTTPClient is copied; nil means a client with http.DefaultTransport.
	HTTPClient *http.Client
	// Timeout bounds each attempt; 0 means DefaultTimeout, negative none.
	Timeout time.Duration
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// Retry is the retry policy; the zero value means DefaultRetry.
	Retry *RetryPolicy
	// Clock drives backoff waits; nil means the real clock.
	Clock clock.Clock
	// MaxResponseBytes caps a success body (default 10 MiB).
	MaxResponseBytes int64
	// RequestIDHeaders are response headers holding the vendor's request id,
	// tried in order (default X-Request-Id).
	RequestIDHeaders []string
	// DecodeError fills vendor fields (Code, Message, Issues, Details) of an
	// APIError from its body. nil uses a generic {"error"|"message"} decoder.
	DecodeError func(e *APIError)
	// RetryDelay lets a vendor derive the server-requested delay from its
	// own headers (rate-limit reset). It runs after Retry-After is parsed and
	// wins when it returns true.
	RetryDelay func(resp *http.Response, now time.Time) (time.Duration, bool)
	// Limiter, if set, is waited on before every attempt (see limit.go).
	Limiter Limiter
	// Service names this client to an Observer ("siro-org", "siro-user",
	// "engrami"); empty means Provider.
	Service string
	// Observer, if set, sees every call, attempt, limiter wait and token
	// mint (see ClientObserver). nil costs one comparison per call.
	Observer ClientObserver
}

// Defaults.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxResponseBytes = 10 << 20
)

// Client performs requests for one vendor host. It is safe for concurrent use.
type Client struct {
	provider   string
	base       string
	auth       Auth
	credName   string
	userAgent  string
	uaValue    []string
	http       http.Client
	timeout    time.Duration
	log        *slog.Logger
	retry      RetryPolicy
	clock      clock.Clock
	maxBody    int64
	reqIDs     []string
	decodeErr  func(*APIError)
	retryDelay func(*http.Response, time.Time) (time.Duration, bool)
	limiter    Limiter
	service    string
	obs        ClientObserver
	cred       atomic.Pointer[credHeader] // the last credential header sent
}

// credHeader is a credential header ready to set: its canonical name and a
// one-value slice shared by every request while the credential does not
// change (headers are never mutated once sent), so a call does not
// allocate it again.
type credHeader struct {
	name, key, value string
	vals             []string
}

// credentialHeader returns the canonical key and value slice for a
// credential, reusing the previous ones when they are the same.
func (c *Client) credentialHeader(name, value string) (string, []string) {
	if h := c.cred.Load(); h != nil && h.name == name && h.value == value {
		return h.key, h.vals
	}
	h := &credHeader{name: name, key: http.CanonicalHeaderKey(name), value: value, vals: []string{value}}
	c.cred.Store(h)
	return h.key, h.vals
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Provider == "" {
		return nil, fmt.Errorf("%w: provider name is empty", ErrInvalidOption)
	}
	base, err := NormalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		provider:   cfg.Provider,
		base:       base,
		auth:       cfg.Auth,
		credName:   cfg.CredentialName,
		userAgent:  cfg.UserAgent,
		timeout:    cfg.Timeout,
		log:        cfg.Logger,
		clock:      clock.Or(cfg.Clock),
		maxBody:    cfg.MaxResponseBytes,
		reqIDs:     cfg.RequestIDHeaders,
		decodeErr:  cfg.DecodeError,
		retryDelay: cfg.RetryDelay,
		limiter:    cfg.Limiter,
		service:    cfg.Service,
		obs:        cfg.Observer,
	}
	if c.service == "" {
		c.service = c.provider
	}
	if m, ok := c.auth.(mintObservable); ok && c.obs != nil {
		m.observeMints(c.obs)
	}
	if c.userAgent == "" {
		c.userAgent = UserAgent
	}
	if strings.ContainsAny(c.userAgent, "\r\n") {
		return nil, fmt.Errorf("%w: user agent contains a line break", ErrInvalidOption)
	}
	c.uaValue = []string{c.userAgent}
	if cfg.HTTPClient != nil {
		c.http = *cfg.HTTPClient //nolint:govet // copied on purpose: never mutate the caller's client
	}
	c.http.CheckRedirect = sameOriginRedirects(c.http.CheckRedirect)
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.New(discardHandler{})
	}
	if cfg.Retry != nil {
		if err := cfg.Retry.validate(); err != nil {
			return nil, err
		}
		c.retry = *cfg.Retry
	} else {
		c.retry = DefaultRetry()
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.maxBody < 0 {
		return nil, fmt.Errorf("%w: max response bytes %d is negative", ErrInvalidOption, c.maxBody)
	}
	c.maxBody = min(c.maxBody, math.MaxInt64-1) // maxBody+1 is read to see the end
	if len(c.reqIDs) == 0 {
		c.reqIDs = []string{"X-Request-Id"}
	} else {
		// Canonical once (what Header.Get does on every call), in a copy:
		// the caller's slice is not ours to change.
		ids := make([]string, len(c.reqIDs))
		for i, k := range c.reqIDs {
			ids[i] = http.CanonicalHeaderKey(k)
		}
		c.reqIDs = ids
	}
	if c.decodeErr == nil {
		c.decodeErr = DecodeGenericError
	}
	return c, nil
}

// NormalizeBaseURL checks that raw is an absolute http(s) URL without query
// or fragment and returns it without a trailing slash.
func NormalizeBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: base URL is empty", ErrInvalidOption)
	}
	// The refused URL is named without what may be a credential (user
	// info, a query, a port-like tail of the host): the error is logged.
	shown, hidden := describeURL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message quotes the whole URL
		}
		msg := err.Error()
		slices.SortFunc(hidden, func(a, b string) int { return len(b) - len(a) }) // the longest first: no part of one is left
		for _, h := range hidden {
			msg = strings.ReplaceAll(msg, h, "[redacted]")
		}
		return "", fmt.Errorf("%w: base URL %q: %s", ErrInvalidOption, shown, msg)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%w: base URL %q must start with http:// or https://", ErrInvalidOption, shown)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: base URL %q has no host", ErrInvalidOption, shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: base URL %q must not carry a query, fragment or user info", ErrInvalidOption, shown)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// BaseURL returns the normalised base URL.
func (c *Client) BaseURL() string { return c.base }

// Provider returns the vendor name.
func (c *Client) Provider() string { return c.provider }

// HasAuth reports whether a credential was configured.
func (c *Client) HasAuth() bool { return c.auth != nil }

// Request describes one API call.
type Request struct {
	// Operation names the SDK method for logs and errors ("Engagements.Get").
	Operation string
	// Method is the HTTP method.
	Method string
	// Route is the path template, e.g. "/v1/things/{id}". Each {name} is
	// replaced, in order, by the escaped PathParams.
	Route string
	// PathParams fill the route's placeholders.
	PathParams []string
	// Query is a go-querystring tagged struct, url.Values, or nil.
	Query any
	// Body is marshalled to JSON once; nil sends no body. A json.RawMessage
	// or []byte is sent as is; an io.Reader (which would encode as {}) is
	// refused with ErrInvalidRequest.
	Body any
	// IdempotencyKey, when set, is sent as Idempotency-Key on every attempt
	// and makes a POST or PATCH retryable.
	IdempotencyKey string
	// Header adds request headers.
	Header http.Header
	// NoAuth sends the request without a credential.
	NoAuth bool
	// RetryUndeliveredOnly limits retries to answers and failures that
	// prove the request was not processed: a connection that could not be
	// opened, a 429, and a 503 carrying Retry-After. For APIs without
	// documented idempotency, where a replayed POST could act twice.
	RetryUndeliveredOnly bool
	// RequireResult makes Do return a DecodeError wrapping ErrEmptyBody for
	// a 2xx answer with an empty body (a 204, say) or JSON null, instead of
	// leaving out untouched: a typed getter never returns a nil result with
	// a nil error.
	RequireResult bool
	// Secrets are values the request carries (a client secret in the body,
	// a secret being stored) that must never reach an error: an error body
	// echoing one has it replaced by "[redacted]" before it is kept.
	Secrets []string
}

// Response describes the final response of a call.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Header is the response header.
	Header http.Header
	// RequestID is the vendor's request id, if any.
	RequestID string
	// Attempts is how many attempts were made.
	Attempts int
}

var jsonHeaderValue = []string{"application/json"}

// readCapped reads r into buf until EOF or limit bytes, without the
// allocation of an io.LimitReader. The buffer never grows past limit
// bytes (bytes.Buffer alone would double to the next power of two), and
// sizeHint (the Content-Length, or -1) sizes it once when known.
func readCapped(buf *bytes.Buffer, r io.Reader, limit, sizeHint int64) (int64, error) {
	if sizeHint >= 0 && buf.Available() < int(min(sizeHint+1, limit)) {
		growTo(buf, int(min(int64(buf.Len())+sizeHint+1, int64(buf.Len())+limit)))
	}
	var n int64
	for n < limit {
		if buf.Available() < 512 {
			want := int64(max(2*buf.Cap(), 4096))
			want = min(want, int64(buf.Len())+limit-n)
			growTo(buf, int(max(want, int64(buf.Len()+1))))
		}
		space := buf.AvailableBuffer()[:buf.Available()]
		if rem := limit - n; int64(len(space)) > rem {
			space = space[:rem]
		}
		m, err := r.Read(space)
		buf.Write(space[:m])
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// growTo makes buf's capacity at least capacity, allocating exactly that.
func growTo(buf *bytes.Buffer, capacity int) {
	if buf.Cap() >= capacity {
		if buf.Available() < capacity-buf.Len() {
			buf.Grow(capacity - buf.Len()) // slides the data down, no allocation
		}
		return
	}
	b := make([]byte, buf.Len(), capacity)
	copy(b, buf.Bytes())
	*buf = *bytes.NewBuffer(b)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Do sends req, retrying as the policy allows, and decodes a 2xx JSON body
// into out (which may be nil). A non-2xx answer is an *APIError.
func (c *Client) Do(ctx context.Context, req *Request, out any) (*Response, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	body, resp, err := c.DoRaw(ctx, req, buf)
	if err != nil {
		return resp, err
	}
	if out != nil && req.RequireResult && NoResult(body) {
		return resp, c.EmptyResult(req, resp)
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return resp, &DecodeError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route,
				StatusCode: resp.StatusCode, Body: decodeErrorBody(body, req.Secrets), Err: err}
		}
	}
	return resp, nil
}

// ErrEmptyBody is wrapped by the DecodeError returned when a call that must
// return a result got an empty body, a 204, JSON null or a null result.
var ErrEmptyBody = apierr.ErrEmptyBody

// NoResult reports whether an answer's body (or an envelope's result)
// carries no result: nothing but white space, or JSON null.
func NoResult(body []byte) bool {
	t := bytes.TrimSpace(body)
	return len(t) == 0 || string(t) == "null"
}

// EmptyResult returns the DecodeError for a call whose answer carried no
// result (see ErrEmptyBody).
func (c *Client) EmptyResult(req *Request, resp *Response) error {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	return &DecodeError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route,
		StatusCode: status, Err: ErrEmptyBody}
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}

// DoRaw is Do without decoding: the 2xx body is read into buf and returned
// (valid until buf is reused) with the response metadata. The metadata is
// also returned with an error when a response was received.
func (c *Client) DoRaw(ctx context.Context, req *Request, buf *bytes.Buffer) (body []byte, last *Response, err error) {
	if c.obs == nil {
		return c.doRaw(ctx, req, buf)
	}
	ctx, end := observeStartCall(ctx, c.obs, c.service, req.Operation)
	body, last, err = c.doRaw(ctx, req, buf)
	status := 0
	if last != nil {
		status = last.StatusCode
	}
	observeEndCall(end, status, err)
	return body, last, err
}

func (c *Client) doRaw(ctx context.Context, req *Request, buf *bytes.Buffer) ([]byte, *Response, error) {
	u, payload, err := c.prepare(req)
	if err != nil {
		return nil, nil, err
	}
	k := call{c: c, req: req, url: u, payload: payload, buf: buf,
		retryable: c.retry.MaxRetries > 0 && methodRetryable(req.Method, req.IdempotencyKey != "")}
	return k.run(ctx)
}

// prepare checks req and builds what every attempt sends: the URL and the
// JSON payload (nil for no body).
func (c *Client) prepare(req *Request) (u string, payload []byte, err error) {
	if req.Method == "" {
		return "", nil, fmt.Errorf("%s: %s: %w: empty method", c.provider, req.Operation, ErrInvalidRequest)
	}
	if !req.NoAuth && c.auth == nil {
		name := c.credName
		if name == "" {
			name = "credential"
		}
		return "", nil, fmt.Errorf("%s: %s: %w: %s", c.provider, opOrRoute(req), ErrMissingCredential, name)
	}
	if u, err = c.buildURL(req); err != nil {
		return "", nil, err
	}
	switch b := req.Body.(type) {
	case nil:
	case json.RawMessage:
		payload = b
	case []byte:
		payload = b
	case io.Reader:
		if _, ok := b.(json.Marshaler); !ok {
			// Its JSON encoding is "{}": the payload would be lost.
			return "", nil, fmt.Errorf("%s: %s: %w: body is an io.Reader (%T); pass []byte or json.RawMessage", c.provider, opOrRoute(req), ErrInvalidRequest, b)
		}
		if payload, err = json.Marshal(b); err != nil {
			return "", nil, fmt.Errorf("%s: %s: %w: encoding body: %v", c.provider, opOrRoute(req), ErrInvalidRequest, err)
		}
	default:
		if payload, err = json.Marshal(b); err != nil {
			return "", nil, fmt.Errorf("%s: %s: %w: encoding body: %v", c.provider, opOrRoute(req), ErrInvalidRequest, err)
		}
	}
	return u, payload, nil
}

// call is one logical call: its attempts, retries and the 401 replay.
type call struct {
	c           *Client
	req         *Request
	url         string
	payload     []byte
	buf         *bytes.Buffer
	retryable   bool
	replayed401 bool
}

// step is what one attempt's outcome asks for next.
type step struct {
	done   bool          // stop: success when err is nil, else fail with err
	replay bool          // replay at once with a new credential (not a retry)
	err    error         // this attempt's error (the final one when done)
	delay  time.Duration // the wait before the next attempt
}

func (k *call) run(ctx context.Context) ([]byte, *Response, error) {
	var last *Response
	for attempt := 1; ; attempt++ {
		if err := k.c.waitLimit(ctx, k.req, attempt); err != nil {
			return nil, last, err
		}
		resp, st := k.once(ctx, attempt)
		if resp != nil {
			last = &resp.meta
			last.Attempts = attempt
		}
		switch {
		case st.done && st.err == nil:
			return resp.body, last, nil
		case st.done:
			return nil, last, st.err
		case st.replay:
			attempt-- // the replay does not count as a retry
			continue
		}
		status := 0
		if resp != nil {
			status = resp.status
		}
		if err := k.c.wait(ctx, k.req, attempt, st.delay, st.err, status); err != nil {
			return nil, last, err
		}
	}
}

// once sends one attempt and decides what follows, telling the observer.
func (k *call) once(ctx context.Context, attempt int) (*attemptResult, step) {
	c := k.c
	if c.obs == nil {
		resp, rerr := c.attempt(ctx, k.req, k.url, k.payload, attempt, k.buf)
		return resp, k.decide(ctx, resp, rerr, attempt)
	}
	actx, end := observeStartAttempt(ctx, c.obs, k.req.Method, attempt)
	resp, rerr := c.attempt(actx, k.req, k.url, k.payload, attempt, k.buf)
	st := k.decide(ctx, resp, rerr, attempt)
	status := 0
	if resp != nil {
		status = resp.status
	}
	var wait time.Duration
	if !st.done && !st.replay {
		wait = st.delay
	}
	observeEndAttempt(end, status, st.err, wait)
	return resp, st
}

// decide classifies one attempt's outcome.
func (k *call) decide(ctx context.Context, resp *attemptResult, rerr error, attempt int) step {
	if rerr != nil {
		return k.decideFailure(ctx, rerr, attempt)
	}
	if resp.status >= 200 && resp.status <= 299 {
		k.c.confirm(k.req, resp)
		return step{done: true}
	}
	return k.decideStatus(ctx, resp, attempt)
}

// decideStatus handles a non-2xx answer: the 401 replay, a retry or the
// final APIError.
func (k *call) decideStatus(ctx context.Context, resp *attemptResult, attempt int) step {
	c, req := k.c, k.req
	apiErr := c.apiError(req, resp)
	st := step{err: apiErr}
	if resp.status == http.StatusUnauthorized {
		// A rejected credential: drop it and replay once with a new one.
		if inv, ok := c.auth.(Invalidator); ok && !k.replayed401 && !req.NoAuth {
			k.replayed401 = true
			if inv.Invalidate(resp.credValue) {
				st.replay = true
				return st
			}
		}
	} else {
		c.confirm(req, resp)
	}
	if !k.retryable || !retryableStatus(resp.status) || attempt > c.retry.MaxRetries ||
		req.RetryUndeliveredOnly && !provablyUnprocessed(apiErr) {
		st.done = true
		return st
	}
	st.delay = c.retry.backoff(attempt)
	if apiErr.RetryAfter > 0 {
		st.delay = c.retry.serverDelay(apiErr.RetryAfter)
	}
	return plan(ctx, st)
}

// decideFailure handles a transport or pre-flight failure.
func (k *call) decideFailure(ctx context.Context, rerr error, attempt int) step {
	c, req := k.c, k.req
	if ctx.Err() != nil {
		return step{done: true, err: &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Attempts: attempt, Err: ctx.Err()}}
	}
	var pf *preflightError
	if errors.As(rerr, &pf) {
		return step{done: true, err: pf.err}
	}
	var de *DecodeError
	if errors.As(rerr, &de) {
		return step{done: true, err: rerr}
	}
	// Every transport failure (before the headers, or while reading the
	// body) is a RequestError; one attempt's timeout, a reset or an EOF
	// is retried for idempotent requests, the caller's own context
	// still bounding everything.
	var re *RequestError
	if !errors.As(rerr, &re) {
		re = &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Err: rerr}
	}
	re.Attempts = attempt
	st := step{err: re}
	if !k.retryable || !isNetworkError(rerr) || attempt > c.retry.MaxRetries ||
		req.RetryUndeliveredOnly && !isDialError(rerr) {
		st.done = true
		return st
	}
	st.delay = c.retry.backoff(attempt)
	return plan(ctx, st)
}

// plan gives up at once (with the attempt's error) when the context's
// deadline would pass before the retry could be sent.
func plan(ctx context.Context, st step) step {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < st.delay {
		st.done = true
	}
	return st
}

// confirm tells a refreshing credential that it was accepted.
func (c *Client) confirm(req *Request, resp *attemptResult) {
	if req.NoAuth || resp.credValue == "" {
		return
	}
	if inv, ok := c.auth.(Invalidator); ok {
		inv.Confirm(resp.credValue)
	}
}

// ErrRedirectRefused is wrapped by the RequestError returned when a server
// redirects to another scheme, host or port: following it would send the
// credential (and a POST body's secrets) elsewhere, or in clear text.
var ErrRedirectRefused = apierr.ErrRedirectRefused

// redirectError names both URLs (without their query strings).
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("%v: %s redirected to %s", ErrRedirectRefused, e.from, e.to)
}

func (e *redirectError) Unwrap() error { return ErrRedirectRefused }

// sameOriginRedirects wraps next (the caller's CheckRedirect, or the
// default of at most 10 redirects): a redirect that changes the scheme,
// host or port of the original request is refused.
func sameOriginRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 {
			orig := via[0].URL
			if !sameOrigin(orig, req.URL) {
				return &redirectError{from: originAndPath(via[len(via)-1].URL), to: originAndPath(req.URL)}
			}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func originAndPath(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

func opOrRoute(req *Request) string {
	if req.Operation != "" {
		return req.Operation
	}
	return req.Method + " " + req.Route
}

// wait sleeps on the clock for delay (plan has checked the context's
// deadline), or returns the context error on cancellation.
func (c *Client) wait(ctx context.Context, req *Request, attempt int, delay time.Duration, lastErr error, status int) error {
	if c.retry.OnRetry != nil {
		c.retry.OnRetry(RetryInfo{Operation: req.Operation, Method: req.Method, Route: req.Route, Attempt: attempt, Delay: delay, StatusCode: status, Err: lastErr})
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "retrying request",
			slog.String("provider", c.provider), slog.String("operation", req.Operation),
			slog.String("method", req.Method), slog.String("route", req.Route),
			slog.Int("attempt", attempt), slog.Duration("delay", delay), slog.Int("status", status))
	}
	select {
	case <-ctx.Done():
		return &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Attempts: attempt, Err: ctx.Err()}
	case <-c.clock.After(delay):
		return nil
	}
}

// preflightError is a failure before anything was sent (building the
// request, getting a credential): never retried by the core.
type preflightError struct{ err error }

func (e *preflightError) Error() string { return e.err.Error() }
func (e *preflightError) Unwrap() error { return e.err }

type attemptResult struct {
	status    int
	meta      Response
	body      []byte
	credValue string
}

func (c *Client) attempt(ctx context.Context, req *Request, u string, payload []byte, attempt int, buf *bytes.Buffer) (*attemptResult, error) {
	actx := ctx
	if c.timeout > 0 && !deadlineWithin(ctx, c.timeout) {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(actx, req.Method, u, body)
	if err != nil {
		return nil, &preflightError{fmt.Errorf("%s: %s: %w: %v", c.provider, opOrRoute(req), ErrInvalidRequest, err)}
	}
	// NewRequestWithContext sets GetBody for a *bytes.Reader, so the body
	// replays on redirects and retries. Constant header values share one
	// slice (never mutated) to save allocations per call.
	if payload != nil {
		hreq.Header["Content-Type"] = jsonHeaderValue
	}
	hreq.Header["Accept"] = jsonHeaderValue
	hreq.Header["User-Agent"] = c.uaValue
	for k, vs := range req.Header {
		hreq.Header[http.CanonicalHeaderKey(k)] = vs
	}
	if req.IdempotencyKey != "" {
		hreq.Header["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	var credValue string
	if !req.NoAuth {
		name, value, err := c.auth.Credential(ctx)
		if err != nil {
			// Wrap without the credential: token sources never put secrets in errors.
			return nil, &preflightError{fmt.Errorf("%s: %s: getting credential: %w", c.provider, opOrRoute(req), err)}
		}
		key, vals := c.credentialHeader(name, value)
		hreq.Header[key] = vals
		credValue = value
	}
	debug := c.log.Enabled(ctx, slog.LevelDebug)
	var start time.Time // read only for the debug log's duration
	if debug {
		start = time.Now()
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		if debug {
			c.log.LogAttrs(ctx, slog.LevelDebug, "request failed",
				slog.String("provider", c.provider), slog.String("operation", req.Operation),
				slog.String("method", req.Method), slog.String("route", req.Route),
				slog.Int("attempt", attempt), slog.Duration("duration", time.Since(start)),
				slog.String("error", err.Error()), slog.Any("headers", RedactHeader(hreq.Header)))
		}
		return nil, &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Attempts: attempt, Err: err}
	}
	defer hresp.Body.Close()
	res := &attemptResult{status: hresp.StatusCode, credValue: credValue,
		meta: Response{StatusCode: hresp.StatusCode, Header: hresp.Header, RequestID: c.requestID(hresp.Header)}}
	ok := hresp.StatusCode >= 200 && hresp.StatusCode <= 299
	limit := c.maxBody
	if !ok {
		limit = MaxErrorBody
	}
	buf.Reset()
	if ok && hresp.ContentLength > limit {
		// Announced too large: refuse without reading it.
		return res, &DecodeError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route,
			StatusCode: hresp.StatusCode, Err: fmt.Errorf("response body of %d bytes exceeds %d bytes", hresp.ContentLength, limit)}
	}
	n, err := readCapped(buf, hresp.Body, limit+1, hresp.ContentLength)
	if debug {
		c.log.LogAttrs(ctx, slog.LevelDebug, "request",
			slog.String("provider", c.provider), slog.String("operation", req.Operation),
			slog.String("method", req.Method), slog.String("route", req.Route),
			slog.Int("status", hresp.StatusCode), slog.Int("attempt", attempt),
			slog.Duration("duration", time.Since(start)), slog.String("request_id", res.meta.RequestID),
			slog.Any("headers", RedactHeader(hreq.Header)))
	}
	if err != nil {
		if ok {
			return res, &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Attempts: attempt, Err: fmt.Errorf("reading response: %w", err)}
		}
		// A broken error body still yields an APIError with what was read.
	}
	if n > limit {
		if ok {
			return res, &DecodeError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route,
				StatusCode: hresp.StatusCode, Err: fmt.Errorf("response body exceeds %d bytes", limit)}
		}
		// Drain (bounded) so the connection can be reused.
		_, _ = io.CopyN(io.Discard, hresp.Body, 64<<10)
	}
	res.body = buf.Bytes()
	if !ok {
		// Redacted before the cut, and a secret the cut (or the end of
		// what was read, when the read failed) runs through is dropped
		// with it.
		secrets := []string{credValue, strings.TrimPrefix(credValue, "Bearer ")}
		// Credential-named fields are redacted too: a 4xx that echoes a
		// token the client never knew (one a mint answered, another
		// account's) must not carry it into every log of the error.
		// The secrets are redacted again after, as in decodeErrorBody.
		res.body = redactCredentialFields(redactSecrets(append([]byte(nil), res.body...), req.Secrets, secrets...))
		res.body = redactSecrets(res.body, req.Secrets, secrets...)
		if n > limit || err != nil {
			res.body = trimSecretStart(res.body[:min(len(res.body), int(limit))], req.Secrets, secrets)
		}
	}
	return res, nil
}

// deadlineWithin reports whether ctx ends within d anyway, so a timeout
// of d would add nothing (and its context's allocations are saved).
func deadlineWithin(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= d
}

// requestID returns the first non-empty request id header's first value
// (h.Get of each, with the keys canonicalised in New).
func (c *Client) requestID(h http.Header) string {
	for _, k := range c.reqIDs {
		if v := h[k]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return ""
}

func (c *Client) apiError(req *Request, r *attemptResult) *APIError {
	e := &APIError{
		Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route,
		StatusCode: r.status, RequestID: r.meta.RequestID, Header: RedactHeader(r.meta.Header), Body: r.body,
	}
	now := c.clock.Now()
	if d, ok := ParseRetryAfter(r.meta.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	if c.retryDelay != nil {
		if d, ok := c.retryDelay(&http.Response{StatusCode: r.status, Header: r.meta.Header}, now); ok {
			e.RetryAfter = d
		}
	}
	c.decodeErr(e)
	return e
}

// DecodeGenericError understands {"error": "..."}, {"message": "..."},
// {"error": {"code", "message", "details"}} and plain-text bodies.
func DecodeGenericError(e *APIError) {
	body := bytes.TrimSpace(e.Body)
	if len(body) == 0 {
		return
	}
	if body[0] != '{' {
		if e.Message == "" && isText(body) {
			e.Message = oneLine(string(body), 300)
		}
		return
	}
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
		Details json.RawMessage `json:"details"`
		Issues  []Issue         `json:"issues"`
	}
	if json.Unmarshal(body, &v) != nil {
		return
	}
	e.Message = v.Message
	e.Code = rawString(v.Code)
	e.Details = v.Details
	e.Issues = v.Issues
	if len(v.Error) > 0 {
		var s string
		if json.Unmarshal(v.Error, &s) == nil {
			e.Message = s
		} else {
			var inner struct {
				Code    json.RawMessage `json:"code"`
				Message string          `json:"message"`
				Details json.RawMessage `json:"details"`
			}
			if json.Unmarshal(v.Error, &inner) == nil {
				if c := rawString(inner.Code); c != "" {
					e.Code = c
				}
				if inner.Message != "" {
					e.Message = inner.Message
				}
				if len(inner.Details) > 0 {
					e.Details = inner.Details
				}
			}
		}
	}
}

func rawString(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			return false
		}
	}
	return true
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
