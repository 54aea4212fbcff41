package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/core"
	"github.com/callcrm/callcrm-go/webhook"
)

// DefaultTokenLifetime is the user token lifetime Siro's guides document,
// used when Siro does not report expiresAt.
const DefaultTokenLifetime = 16 * time.Hour

// AccessToken is the answer of CreateAccessToken.
type AccessToken struct {
	AccessTokenID string `json:"accessTokenId"`
	AccessToken   string `json:"accessToken"`
}

// String never prints the token.
func (t AccessToken) String() string { return "AccessToken{" + t.AccessTokenID + ", [redacted]}" }

// CreateAccessTokenParams is the body of CreateAccessToken.
type CreateAccessTokenParams struct {
	ClientSecret string `json:"clientSecret"`
	UserID       string `json:"userId"`
	Scope        Scope  `json:"scope"`
}

// CreateAccessToken mints a user-scoped OAuth access token for an OAuth app
// (org API, POST /v1/core/oauth/apps/{clientId}/access-token).
func (c *Client) CreateAccessToken(ctx context.Context, clientID string, p *CreateAccessTokenParams) (*AccessToken, error) {
	if p == nil || p.ClientSecret == "" || p.UserID == "" || (p.Scope != ScopeRead && p.Scope != ScopeWrite) {
		return nil, invalid("OAuth.CreateAccessToken", "clientSecret, userId and scope (read or write) are required")
	}
	out, err := getBare[AccessToken](ctx, c.org, "OAuth.CreateAccessToken", http.MethodPost,
		"/v1/core/oauth/apps/{clientId}/access-token", []string{clientID}, nil, p, p.ClientSecret)
	if err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, errNoToken
	}
	return &out, nil
}

// GetAccessToken reads a token's metadata (GET
// /v1/core/oauth/apps/{clientId}/access-token/{tokenId}, std envelope).
func (c *Client) GetAccessToken(ctx context.Context, clientID, tokenID string) (*OAuthTokenInfo, error) {
	return getData[*OAuthTokenInfo](ctx, c.org, "OAuth.GetAccessToken", http.MethodGet,
		"/v1/core/oauth/apps/{clientId}/access-token/{tokenId}", []string{clientID, tokenID}, nil, nil)
}

// mintUserToken mints a token and reads its real expiry; if the lookup
// fails the documented 16 hours apply.
func (c *Client) mintUserToken(ctx context.Context, app oauthApp) (core.Token, error) {
	issued := c.clockNow()
	t, err := c.CreateAccessToken(ctx, app.clientID, &CreateAccessTokenParams{ClientSecret: app.clientSecret, UserID: app.userID, Scope: app.scope})
	if err != nil {
		return core.Token{}, err
	}
	expiry := issued.Add(DefaultTokenLifetime)
	if meta, err := c.GetAccessToken(ctx, app.clientID, t.AccessTokenID); err == nil && !meta.ExpiresAt.IsZero() {
		expiry = meta.ExpiresAt.Time
	}
	return core.Token{Value: t.AccessToken, Expiry: expiry}, nil
}

// OAuthApp is a registered OAuth application.
type OAuthApp struct {
	AppName        string        `json:"appName"`
	ClientID       string        `json:"clientId"`
	OrganizationID string        `json:"organizationId"`
	Owner          string        `json:"owner"`
	Deleted        bool          `json:"deleted"`
	CreatedAt      webhook.Time  `json:"createdAt"`
	UpdatedAt      webhook.Time  `json:"updatedAt"`
	DeletedAt      *webhook.Time `json:"deletedAt"`
}

// CreateOAuthAppParams is the body of CreateOAuthApp.
type CreateOAuthAppParams struct {
	AppName        string `json:"appName"`
	Owner          string `json:"owner"`
	OrganizationID string `json:"organizationId"`
}

// NewOAuthApp is CreateOAuthApp's answer. The client secret is shown once.
type NewOAuthApp struct {
	AppName      string `json:"appName"`
	ClientID     string `json:"clientID"` // spelled clientID by Siro
	ClientSecret string `json:"clientSecret"`
}

// UnmarshalJSON accepts both clientID (spec) and clientId (guide).
func (a *NewOAuthApp) UnmarshalJSON(b []byte) error {
	var v struct {
		AppName      string `json:"appName"`
		ClientID     string `json:"clientID"`
		ClientId     string `json:"clientId"` //nolint:revive // the guide's spelling
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.AppName, a.ClientID, a.ClientSecret = v.AppName, v.ClientID, v.ClientSecret
	if a.ClientID == "" {
		a.ClientID = v.ClientId
	}
	return nil
}

// String never prints the secret.
func (a NewOAuthApp) String() string {
	return "NewOAuthApp{" + a.AppName + ", " + a.ClientID + ", [redacted]}"
}

// CreateOAuthApp registers an OAuth app (POST /v1/core/oauth/apps).
func (c *Client) CreateOAuthApp(ctx context.Context, p *CreateOAuthAppParams) (*NewOAuthApp, error) {
	if p == nil || p.AppName == "" || p.Owner == "" || p.OrganizationID == "" {
		return nil, invalid("OAuth.CreateApp", "appName, owner and organizationId are required")
	}
	return getBare[*NewOAuthApp](ctx, c.org, "OAuth.CreateApp", http.MethodPost, "/v1/core/oauth/apps", nil, nil, p)
}

// OAuthListParams are the shared list parameters of OAuth apps and tokens.
type OAuthListParams struct {
	FromDate      *time.Time `url:"fromDate,omitempty"`
	ToDate        *time.Time `url:"toDate,omitempty"`
	Limit         int        `url:"limit,omitempty"` // 1..100
	Cursor        Cursor     `url:"cursor,omitempty"`
	Page          int        `url:"page,omitempty"`
	SortField     string     `url:"sortField,omitempty"`     // dateCreated or dateUpdated
	SortDirection string     `url:"sortDirection,omitempty"` // asc or desc
}

func (p *OAuthListParams) validate(op string) error {
	switch {
	case p == nil:
		return nil
	case p.Limit < 0 || p.Limit > 100:
		return invalid(op, fmt.Sprintf("limit %d is not within 1..100", p.Limit))
	case p.Page < 0:
		return invalid(op, "page must be at least 1")
	case p.SortField != "" && p.SortField != "dateCreated" && p.SortField != "dateUpdated":
		return invalid(op, "sortField must be dateCreated or dateUpdated")
	case p.SortDirection != "" && p.SortDirection != "asc" && p.SortDirection != "desc":
		return invalid(op, "sortDirection must be asc or desc")
	}
	return nil
}

// ListOAuthAppsParams filters ListOAuthApps (OrganizationID and Owner are
// required).
type ListOAuthAppsParams struct {
	OrganizationID string `url:"organizationId"`
	Owner          string `url:"owner"`
	OAuthListParams
}

// ListOAuthApps returns one page of OAuth apps.
func (c *Client) ListOAuthApps(ctx context.Context, p *ListOAuthAppsParams) (*Page[OAuthApp], error) {
	if p == nil || p.OrganizationID == "" || p.Owner == "" {
		return nil, invalid("OAuth.ListApps", "organizationId and owner are required")
	}
	if err := p.OAuthListParams.validate("OAuth.ListApps"); err != nil {
		return nil, err
	}
	return getPage[OAuthApp](ctx, c.org, "OAuth.ListApps", "/v1/core/oauth/apps", nil, p)
}

// AllOAuthApps iterates every OAuth app matching p (OrganizationID and
// Owner are required, as for ListOAuthApps).
func (c *Client) AllOAuthApps(ctx context.Context, p *ListOAuthAppsParams) iter.Seq2[OAuthApp, error] {
	return all(ctx, p, func(q *ListOAuthAppsParams) *Cursor { return &q.Cursor }, c.ListOAuthApps)
}

// GetOAuthApp returns one OAuth app (std envelope).
func (c *Client) GetOAuthApp(ctx context.Context, clientID string) (*OAuthApp, error) {
	return getData[*OAuthApp](ctx, c.org, "OAuth.GetApp", http.MethodGet, "/v1/core/oauth/apps/{clientId}", []string{clientID}, nil, nil)
}

// DeleteOAuthApp soft-deletes an app and revokes its tokens.
func (c *Client) DeleteOAuthApp(ctx context.Context, clientID string) error {
	return do(ctx, c.org, "OAuth.DeleteApp", http.MethodDelete, "/v1/core/oauth/apps/{clientId}", []string{clientID}, nil, nil, nil)
}

// OAuthTokenInfo is an access token's metadata.
type OAuthTokenInfo struct {
	AccessTokenID string        `json:"accessTokenId"`
	OAuthAppID    string        `json:"oAuthAppId"`
	UserID        string        `json:"userId"`
	Audience      string        `json:"audience"`
	Subject       string        `json:"subject"`
	Scope         Scope         `json:"scope"`
	ExpiresAt     webhook.Time  `json:"expiresAt"`
	CreatedAt     webhook.Time  `json:"createdAt"`
	UpdatedAt     webhook.Time  `json:"updatedAt"`
	RevokedAt     *webhook.Time `json:"revokedAt"`
}

// ListAccessTokensParams filters ListAccessTokens (Owner is required).
type ListAccessTokensParams struct {
	Owner string `url:"owner"`
	OAuthListParams
}

// ListAccessTokens returns one page of an app's access tokens.
func (c *Client) ListAccessTokens(ctx context.Context, clientID string, p *ListAccessTokensParams) (*Page[OAuthTokenInfo], error) {
	if p == nil || p.Owner == "" {
		return nil, invalid("OAuth.ListAccessTokens", "owner is required")
	}
	if err := p.OAuthListParams.validate("OAuth.ListAccessTokens"); err != nil {
		return nil, err
	}
	return getPage[OAuthTokenInfo](ctx, c.org, "OAuth.ListAccessTokens", "/v1/core/oauth/apps/{clientId}/access-token", []string{clientID}, p)
}

// RevokeAccessTokenParams identifies the token RevokeAccessToken revokes;
// every field is required. ClientSecret never appears in an error or log.
type RevokeAccessTokenParams struct {
	// ClientID is the OAuth app's client id (path).
	ClientID string `json:"-"`
	// TokenID is the access token's id (path), AccessToken.AccessTokenID.
	TokenID string `json:"-"`
	// ClientSecret is the OAuth app's client secret (body).
	ClientSecret string `json:"clientSecret"`
	// UserID is the Siro user the token was minted for (body).
	UserID string `json:"userId"`
}

// String never prints the client secret.
func (p RevokeAccessTokenParams) String() string {
	return "RevokeAccessTokenParams{clientId: " + p.ClientID + ", tokenId: " + p.TokenID + ", userId: " + p.UserID + ", clientSecret: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (p RevokeAccessTokenParams) GoString() string { return p.String() }

// Format prints String for every verb.
func (p RevokeAccessTokenParams) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// RevokeAccessToken revokes a token (DELETE
// /v1/core/oauth/apps/{clientId}/access-token/{tokenId} with a JSON body).
func (c *Client) RevokeAccessToken(ctx context.Context, p *RevokeAccessTokenParams) error {
	const op = "OAuth.RevokeAccessToken"
	if p == nil || p.ClientID == "" || p.TokenID == "" || p.ClientSecret == "" || p.UserID == "" {
		return invalid(op, "clientId, tokenId, clientSecret and userId are required")
	}
	return do(ctx, c.org, op, http.MethodDelete, "/v1/core/oauth/apps/{clientId}/access-token/{tokenId}",
		[]string{p.ClientID, p.TokenID}, nil, map[string]string{"clientSecret": p.ClientSecret, "userId": p.UserID}, nil, p.ClientSecret)
}

// --- Caller identity -----------------------------------------------------

// OrgToken describes the org token a call was made with.
type OrgToken struct {
	TokenID               string       `json:"tokenId"`
	TokenName             string       `json:"tokenName"`
	OrganizationID        string       `json:"organizationId"`
	AuthorizedOrgGroupID  *string      `json:"authorizedOrgGroupId"`
	ParentOrgGroupTokenID *string      `json:"parentOrgGroupTokenId"`
	CreatedAt             webhook.Time `json:"createdAt"`
	CreatedBy             *string      `json:"createdBy"`
}

// CallerIdentity describes the org token in use (GET /v1/core/auth/caller-identity).
func (c *Client) CallerIdentity(ctx context.Context) (*OrgToken, error) {
	return getBare[*OrgToken](ctx, c.org, "Auth.CallerIdentity", http.MethodGet, "/v1/core/auth/caller-identity", nil, nil, nil)
}
