package engrami

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/core"
)

// DefaultBaseURL is Engrami's API root as its endpoint pages show it.
const DefaultBaseURL = "https://api.engrami.com/api/v1"

// RateLimit is what Engrami's X-RateLimit-* headers said.
type RateLimit struct {
	Limit, Remaining int
	// Reset is when the window resets (X-RateLimit-Reset, Unix seconds).
	Reset time.Time
}

// ParseRateLimit reads the X-RateLimit-* headers; ok is false when absent.
func ParseRateLimit(h http.Header) (RateLimit, bool) {
	l, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil && err2 != nil && err3 != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Limit: l, Remaining: r}
	if err3 == nil {
		rl.Reset = time.Unix(reset, 0)
	}
	return rl, true
}

// Client talks to Engrami's API. Safe for concurrent use.
type Client struct {
	core   *core.Client
	tenant string

	mu   sync.Mutex
	rate RateLimit
	seen bool
}

// Option configures a Client.
type Option func(*config) error

type config struct {
	token     string
	base      string
	tenant    string
	transport // zz_errors.go: WithHTTPClient, WithRetry, ...
}

// WithToken sets the API key or JWT sent as "Authorization: Bearer
// <token>". NewClient requires it.
func WithToken(token string) Option {
	return textOption("WithToken", "token", token, func(c *config) { c.token = token })
}

// WithBaseURL overrides the API root (e.g. "https://api.engrami.com/v1"):
// an absolute http or https URL without query or fragment.
func WithBaseURL(u string) Option {
	return baseURLOption("WithBaseURL", u, func(c *config) { c.base = u })
}

// WithTenantID sends tenant_id on every call.
func WithTenantID(id string) Option {
	return textOption("WithTenantID", "tenant id", id, func(c *config) { c.tenant = id })
}

// NewClient returns a client. WithToken (an API key or JWT) is required,
// as siro.NewClient requires its credential options.
func NewClient(opts ...Option) (*Client, error) {
	c := config{base: DefaultBaseURL}
	for i, o := range opts {
		if o == nil {
			return nil, optErr("NewClient", "option %d is nil", i)
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.token == "" {
		return nil, optErr("NewClient", "no token: give WithToken")
	}
	token := c.token
	cl := &Client{tenant: c.tenant}
	cfg := c.coreConfig()
	cfg.BaseURL, cfg.Auth, cfg.DecodeError, cfg.Service = c.base, core.Bearer(token), core.DecodeGenericError, "engrami"
	cfg.RetryDelay = func(resp *http.Response, now time.Time) (time.Duration, bool) {
		rl, ok := ParseRateLimit(resp.Header)
		if !ok || resp.StatusCode != http.StatusTooManyRequests || rl.Reset.IsZero() {
			return 0, false
		}
		return max(rl.Reset.Sub(now), 0), true
	}
	cc, err := core.New(cfg)
	if err != nil {
		return nil, rePrefix("NewClient", err)
	}
	cl.core = cc
	return cl, nil
}

// RateLimit returns the rate-limit headers of the latest answer.
func (c *Client) RateLimit() (RateLimit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate, c.seen
}

// CallOption adjusts one call (WithIdempotencyKey). The zero CallOption
// does nothing.
type CallOption struct{ apply func(*core.Request) }

// WithIdempotencyKey sends Idempotency-Key; it makes a POST retryable (the
// same key on every attempt).
func WithIdempotencyKey(key string) CallOption {
	return CallOption{func(r *core.Request) { r.IdempotencyKey = key }}
}

// withSecrets names values the call carries that must never reach an
// error (an echoed body is redacted).
func withSecrets(secrets ...string) CallOption {
	return CallOption{func(r *core.Request) { r.Secrets = append(r.Secrets, secrets...) }}
}

type tenantQuery struct {
	TenantID string `url:"tenant_id,omitempty"`
}

// Do is the escape hatch for endpoints not typed yet, shaped as siro's
// Client.Do: method, path (a route template such as "/agents/{id}" filled
// from pathParams), an optional query (a url-tagged struct or url.Values),
// JSON body and result. The client's tenant (WithTenantID) is always the
// tenant_id parameter, whatever query holds. body is marshalled to JSON;
// []byte and json.RawMessage are sent as they are, and an io.Reader is
// refused with ErrInvalidRequest. The {success, data} envelope is removed
// if present. An answer with no result (empty, null) is a DecodeError
// wrapping ErrEmptyBody, as in package siro, unless out is nil or a
// *json.RawMessage.
func (c *Client) Do(ctx context.Context, method, path string, pathParams []string, query, body, out any, opts ...CallOption) error {
	if query != nil {
		v, err := core.QueryValues(query)
		if err != nil {
			return invalid("Do", "query: "+err.Error())
		}
		q := url.Values{}
		for k, vals := range v {
			q[k] = append([]string(nil), vals...)
		}
		if c.tenant != "" {
			q.Set("tenant_id", c.tenant)
		}
		opts = append(opts[:len(opts):len(opts)], CallOption{func(r *core.Request) { r.Query = q }})
	}
	return c.call(ctx, "Do", method, path, pathParams, body, out, opts)
}

func (c *Client) call(ctx context.Context, op, method, route string, params []string, body, out any, opts []CallOption) error {
	var raw json.RawMessage
	if err := c.callRaw(ctx, op, method, route, params, body, &raw, opts); err != nil {
		return err
	}
	data, err := unwrap(raw)
	if err != nil {
		e := &core.APIError{Provider: "engrami", Operation: op, Method: method, Route: route, StatusCode: http.StatusOK, Body: raw}
		core.DecodeGenericError(e)
		if e.Message == "" {
			e.Message = err.Error()
		}
		return publicError(e)
	}
	if out == nil {
		return nil
	}
	if core.NoResult(data) {
		if _, raw := out.(*json.RawMessage); raw {
			return nil // kept raw: the caller reads what came, nothing included
		}
		return c.emptyResult(op, method, route)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &DecodeError{Provider: "engrami", Operation: op, Method: method, Route: route, StatusCode: http.StatusOK, Err: err}
	}
	return nil
}

// callRaw sends one request and stores the raw 2xx body in out.
func (c *Client) callRaw(ctx context.Context, op, method, route string, params []string, body any, out *json.RawMessage, opts []CallOption) error {
	req := &core.Request{Operation: op, Method: method, Route: route, PathParams: params, Body: body}
	if c.tenant != "" {
		req.Query = tenantQuery{c.tenant}
	}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(req)
		}
	}
	resp, err := c.core.Do(ctx, req, out)
	if resp != nil {
		if rl, ok := ParseRateLimit(resp.Header); ok {
			c.mu.Lock()
			c.rate, c.seen = rl, true
			c.mu.Unlock()
		}
	}
	return publicError(err)
}

// emptyResult is the DecodeError (wrapping ErrEmptyBody) of a 2xx answer
// without the result the call returns, as the shared core reports it for
// package siro.
func (c *Client) emptyResult(op, method, route string) error {
	return publicError(c.core.EmptyResult(&core.Request{Operation: op, Method: method, Route: route}, &core.Response{StatusCode: http.StatusOK}))
}

// unwrap removes {"success": true, "data": ...}; a body with success false
// is an error.
func unwrap(raw json.RawMessage) (json.RawMessage, error) {
	var env struct {
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   json.RawMessage `json:"error"`
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &env) != nil || env.Success == nil {
		return raw, nil
	}
	if !*env.Success {
		return nil, fmt.Errorf("success is false")
	}
	if env.Data != nil {
		return env.Data, nil
	}
	return raw, nil
}
