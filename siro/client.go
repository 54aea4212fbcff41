package siro

import (
	"context"
	"errors"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/core"
)

// Default base URLs.
const (
	DefaultOrgBaseURL  = "https://functions.siro.ai/api-externalApi"
	DefaultUserBaseURL = "https://api.siro.ai"
	// UserTokenHeader is the user API's credential header.
	UserTokenHeader = "x-siro-auth-token"
)

// Client talks to both Siro hosts. Safe for concurrent use.
type Client struct {
	org      *core.Client
	user     *core.Client
	clockNow func() time.Time
	clock    clock.Clock
	userCred bool // a user API credential was configured
}

// Option configures a Client; options are validated by NewClient.
type Option func(*config) error

type config struct {
	orgBase, userBase string
	orgToken          string
	userAuth          core.Auth
	oauth             *oauthApp
	limiter           Limiter // limit.go
	userLimiter       Limiter
	transport         // zz_errors.go: WithHTTPClient, WithRetry, ...
}

// WithOrgToken sets the organization API token for the org API.
func WithOrgToken(token string) Option {
	return textOption("WithOrgToken", "token", token, func(c *config) { c.orgToken = token })
}

// WithUserToken sets a fixed OAuth access token for the user API.
func WithUserToken(token string) Option {
	return textOption("WithUserToken", "token", token, func(c *config) { c.userAuth = core.Header(UserTokenHeader, token) })
}

// TokenFunc supplies user API tokens; the client caches them until Expiry
// and calls again shortly before, or after a 401.
type TokenFunc func(ctx context.Context) (Token, error)

// WithUserTokenSource sets your own source of user API tokens.
func WithUserTokenSource(fn TokenFunc) Option {
	return func(c *config) error {
		if fn == nil {
			return optErr("WithUserTokenSource", "token source is nil")
		}
		a, err := core.NewRefreshingAuth(UserTokenHeader, "", func(ctx context.Context) (core.Token, error) {
			t, err := fn(ctx)
			return core.Token{Value: t.Value, Expiry: t.Expiry}, err
		}, 0, c.clock)
		if err != nil {
			return rePrefix("WithUserTokenSource", err)
		}
		c.userAuth = a
		return nil
	}
}

// Scope is an OAuth access token's scope.
type Scope string

// Scopes Siro documents.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

type oauthApp struct {
	clientID, clientSecret, userID string
	scope                          Scope
}

// WithOAuthApp makes the client mint user API tokens itself through the
// org API (POST /v1/core/oauth/apps/{clientId}/access-token), cache them
// until shortly before they expire (Siro's reported expiresAt, else the
// documented 16 hours), and mint again after a 401. It needs WithOrgToken.
func WithOAuthApp(clientID, clientSecret, userID string, scope Scope) Option {
	return func(c *config) error {
		switch {
		case clientID == "":
			return optErr("WithOAuthApp", "clientID is empty")
		case clientSecret == "":
			return optErr("WithOAuthApp", "clientSecret is empty")
		case userID == "":
			return optErr("WithOAuthApp", "userID is empty")
		case scope != ScopeRead && scope != ScopeWrite:
			return optErr("WithOAuthApp", "scope %q must be read or write", scope)
		}
		c.oauth = &oauthApp{clientID, clientSecret, userID, scope}
		return nil
	}
}

// WithOrgBaseURL overrides the org API base URL (tests, proxies): an
// absolute http or https URL without query or fragment.
func WithOrgBaseURL(u string) Option {
	return baseURLOption("WithOrgBaseURL", u, func(c *config) { c.orgBase = u })
}

// WithUserBaseURL overrides the user API base URL (tests, proxies).
func WithUserBaseURL(u string) Option {
	return baseURLOption("WithUserBaseURL", u, func(c *config) { c.userBase = u })
}

// NewClient returns a client. Calls to a host whose credential was not
// given fail before any request with ErrMissingCredential.
func NewClient(opts ...Option) (*Client, error) {
	c := config{orgBase: DefaultOrgBaseURL, userBase: DefaultUserBaseURL}
	for i, o := range opts {
		if o == nil {
			return nil, optErr("NewClient", "option %d is nil", i)
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	base := c.coreConfig()
	orgCfg := base
	orgCfg.Limiter, base.Limiter = c.limiters()
	orgCfg.Service = "siro-org"
	orgCfg.BaseURL = c.orgBase
	orgCfg.CredentialName = "org token (siro.WithOrgToken)"
	if c.orgToken != "" {
		orgCfg.Auth = core.Bearer(c.orgToken)
	}
	org, err := core.New(orgCfg)
	if err != nil {
		return nil, rePrefix("NewClient", err)
	}
	cl := &Client{org: org}
	if c.oauth != nil {
		if c.orgToken == "" {
			return nil, optErr("WithOAuthApp", "it mints tokens through the org API and needs WithOrgToken")
		}
		if c.userAuth != nil {
			return nil, optErr("WithOAuthApp", "it excludes WithUserToken and WithUserTokenSource")
		}
		app := *c.oauth
		if c.userAuth, err = core.NewRefreshingAuth(UserTokenHeader, "", func(ctx context.Context) (core.Token, error) {
			return cl.mintUserToken(ctx, app)
		}, 0, c.clock); err != nil {
			return nil, rePrefix("WithOAuthApp", err)
		}
	}
	userCfg := base
	userCfg.Service = "siro-user"
	userCfg.BaseURL = c.userBase
	userCfg.Auth = c.userAuth
	userCfg.CredentialName = "user access token (siro.WithUserToken, WithUserTokenSource or WithOAuthApp)"
	if cl.user, err = core.New(userCfg); err != nil {
		return nil, rePrefix("NewClient", err)
	}
	cl.userCred = c.userAuth != nil
	cl.clock = clock.Or(c.clock)
	cl.clockNow = cl.clock.Now
	return cl, nil
}

// Host selects which Siro API a raw call goes to.
type Host int

// Hosts.
const (
	OrgAPI Host = iota
	UserAPI
)

// Do is the escape hatch for operations not typed yet: it sends method to
// path (a route template such as "/v1/core/teams/{id}" filled from
// pathParams) with an optional query (a url-tagged struct or url.Values)
// and JSON body, and decodes the JSON reply into out. body is marshalled
// to JSON; []byte and json.RawMessage are sent as they are, and an
// io.Reader is refused with ErrInvalidRequest (its JSON would be {}).
func (c *Client) Do(ctx context.Context, host Host, method, path string, pathParams []string, query, body, out any) error {
	cl := c.org
	if host == UserAPI {
		cl = c.user
	}
	_, err := cl.Do(ctx, &core.Request{Operation: "Do", Method: method, Route: path, PathParams: pathParams, Query: query, Body: body}, out)
	return publicError(err)
}

var errNoToken = errors.New("siro: access-token response has no accessToken")
