package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
)

// --- Engagements (org API) ---------------------------------------------

// ListEngagementsParams filters GET /v1/integrations/engagements.
type ListEngagementsParams struct {
	Cursor      Cursor `url:"cursor,omitempty"`
	RecordingID string `url:"recordingId,omitempty"`
	ExternalID  string `url:"externalId,omitempty"`
}

// ListEngagements returns one page of engagements.
func (c *Client) ListEngagements(ctx context.Context, p *ListEngagementsParams) (*Page[Engagement], error) {
	return getPage[Engagement](ctx, c.org, "Engagements.List", "/v1/integrations/engagements", nil, p)
}

// AllEngagements iterates every engagement matching p (p is not modified).
func (c *Client) AllEngagements(ctx context.Context, p *ListEngagementsParams) iter.Seq2[Engagement, error] {
	return all(ctx, p, func(q *ListEngagementsParams) *Cursor { return &q.Cursor }, c.ListEngagements)
}

// GetEngagement returns an engagement by Siro id (bare object). Its
// RecordingID tells which recording matched.
func (c *Client) GetEngagement(ctx context.Context, id string) (*Engagement, error) {
	return getBare[*Engagement](ctx, c.org, "Engagements.Get", http.MethodGet, "/v1/integrations/engagements/{id}", []string{id}, nil, nil)
}

// IDType says whether an id is Siro's or the CRM's.
type IDType string

// ID types.
const (
	IDInternal IDType = "internal"
	IDExternal IDType = "external"
)

// DeleteEngagementParams selects how the id is read.
type DeleteEngagementParams struct {
	IDType IDType `url:"idType,omitempty"`
	// IntegrationPlatform disambiguates an external id when the
	// organization has several integrations.
	IntegrationPlatform string `url:"integrationPlatform,omitempty"`
}

// DeleteEngagement deletes an engagement; p may be nil (internal id).
func (c *Client) DeleteEngagement(ctx context.Context, id string, p *DeleteEngagementParams) error {
	if p != nil && p.IDType != "" && p.IDType != IDInternal && p.IDType != IDExternal {
		return invalid("Engagements.Delete", fmt.Sprintf("idType %q is not internal or external", p.IDType))
	}
	ok, err := getBare[bool](ctx, c.org, "Engagements.Delete", http.MethodDelete, "/v1/integrations/engagements/{id}", []string{id}, p, nil)
	return deleted("Engagements.Delete", ok, err)
}

// UserEngagementsParams pages GET /v1/integrations/users/{id}/engagements.
type UserEngagementsParams struct {
	Limit          int    `url:"limit,omitempty"`
	StartingAfter  string `url:"startingAfter,omitempty"`
	StartingBefore string `url:"startingBefore,omitempty"`
}

// ListUserEngagements returns a CRM user's ordered engagements (bare array).
func (c *Client) ListUserEngagements(ctx context.Context, userID string, p *UserEngagementsParams) ([]Engagement, error) {
	return getBare[[]Engagement](ctx, c.org, "Engagements.ListForUser", http.MethodGet, "/v1/integrations/users/{id}/engagements", []string{userID}, p, nil)
}

// --- Engagement users ----------------------------------------------------

// EngagementUser links a CRM user to an engagement.
type EngagementUser struct {
	ID                      string       `json:"id"`
	EngagementID            string       `json:"engagementId"`
	UserID                  string       `json:"userId"`
	Name                    string       `json:"name"`
	OrganizationID          string       `json:"organizationId"`
	CreatedAt               webhook.Time `json:"createdAt"`
	UpdatedAt               webhook.Time `json:"updatedAt"`
	IntegrationConnectionID string       `json:"integrationConnectionId"`
}

// EngagementUserParams is the body of create and update.
type EngagementUserParams struct {
	EngagementID string `json:"engagementId,omitempty"`
	UserID       string `json:"userId,omitempty"`
	Name         string `json:"name,omitempty"`
}

// ListEngagementUsersParams filters the list.
type ListEngagementUsersParams struct {
	Cursor       Cursor `url:"cursor,omitempty"`
	EngagementID string `url:"engagementId,omitempty"`
	UserID       string `url:"userId,omitempty"`
}

// ListEngagementUsers returns engagement users (a bare array; Siro returns
// no next cursor for this list).
func (c *Client) ListEngagementUsers(ctx context.Context, p *ListEngagementUsersParams) ([]EngagementUser, error) {
	return getBare[[]EngagementUser](ctx, c.org, "EngagementUsers.List", http.MethodGet, "/v1/integrations/engagement-users", nil, p, nil)
}

// CreateEngagementUser links a user to an engagement.
func (c *Client) CreateEngagementUser(ctx context.Context, p *EngagementUserParams) (*EngagementUser, error) {
	if p == nil || p.EngagementID == "" || p.UserID == "" {
		return nil, invalid("EngagementUsers.Create", "engagementId and userId are required")
	}
	return getBare[*EngagementUser](ctx, c.org, "EngagementUsers.Create", http.MethodPost, "/v1/integrations/engagement-users", nil, nil, p)
}

// GetEngagementUser returns one engagement user.
func (c *Client) GetEngagementUser(ctx context.Context, id string) (*EngagementUser, error) {
	return getBare[*EngagementUser](ctx, c.org, "EngagementUsers.Get", http.MethodGet, "/v1/integrations/engagement-users/{id}", []string{id}, nil, nil)
}

// UpdateEngagementUser updates one engagement user.
func (c *Client) UpdateEngagementUser(ctx context.Context, id string, p *EngagementUserParams) (*EngagementUser, error) {
	if p == nil {
		return nil, invalid("EngagementUsers.Update", "params are nil")
	}
	return getBare[*EngagementUser](ctx, c.org, "EngagementUsers.Update", http.MethodPut, "/v1/integrations/engagement-users/{id}", []string{id}, nil, p)
}

// DeleteEngagementUser deletes one engagement user.
func (c *Client) DeleteEngagementUser(ctx context.Context, id string) error {
	ok, err := getBare[bool](ctx, c.org, "EngagementUsers.Delete", http.MethodDelete, "/v1/integrations/engagement-users/{id}", []string{id}, nil, nil)
	return deleted("EngagementUsers.Delete", ok, err)
}

// --- Opportunities -------------------------------------------------------

// ListOpportunitiesParams filters GET /v1/integrations/opportunities.
type ListOpportunitiesParams struct {
	Cursor      Cursor `url:"cursor,omitempty"`
	RecordingID string `url:"recordingId,omitempty"`
	ExternalID  string `url:"externalId,omitempty"`
}

// ListOpportunities returns one page of opportunities.
func (c *Client) ListOpportunities(ctx context.Context, p *ListOpportunitiesParams) (*Page[Opportunity], error) {
	return getPage[Opportunity](ctx, c.org, "Opportunities.List", "/v1/integrations/opportunities", nil, p)
}

// AllOpportunities iterates every opportunity matching p.
func (c *Client) AllOpportunities(ctx context.Context, p *ListOpportunitiesParams) iter.Seq2[Opportunity, error] {
	return all(ctx, p, func(q *ListOpportunitiesParams) *Cursor { return &q.Cursor }, c.ListOpportunities)
}

// GetOpportunity returns an opportunity by Siro id.
func (c *Client) GetOpportunity(ctx context.Context, id string) (*Opportunity, error) {
	return getBare[*Opportunity](ctx, c.org, "Opportunities.Get", http.MethodGet, "/v1/integrations/opportunities/{id}", []string{id}, nil, nil)
}

// DeleteOpportunity deletes an opportunity.
func (c *Client) DeleteOpportunity(ctx context.Context, id string) error {
	ok, err := getBare[bool](ctx, c.org, "Opportunities.Delete", http.MethodDelete, "/v1/integrations/opportunities/{id}", []string{id}, nil, nil)
	return deleted("Opportunities.Delete", ok, err)
}

// --- Opportunity users -----------------------------------------------------

// OpportunityUser links a CRM user to an opportunity.
type OpportunityUser struct {
	ID                      string       `json:"id"`
	OpportunityID           string       `json:"opportunityId"`
	UserID                  string       `json:"userId"`
	Name                    string       `json:"name"`
	AmountPercentage        *float64     `json:"amountPercentage"`
	OrganizationID          string       `json:"organizationId"`
	CreatedAt               webhook.Time `json:"createdAt"`
	UpdatedAt               webhook.Time `json:"updatedAt"`
	IntegrationConnectionID string       `json:"integrationConnectionId"`
}

// OpportunityUserParams is the body of create and update.
type OpportunityUserParams struct {
	OpportunityID    string   `json:"opportunityId,omitempty"`
	UserID           string   `json:"userId,omitempty"`
	Name             string   `json:"name,omitempty"`
	AmountPercentage *float64 `json:"amountPercentage,omitempty"` // 0 is meaningful
}

// ListOpportunityUsersParams filters the list.
type ListOpportunityUsersParams struct {
	Cursor        Cursor `url:"cursor,omitempty"`
	OpportunityID string `url:"opportunityId,omitempty"`
	UserID        string `url:"userId,omitempty"`
}

// ListOpportunityUsers returns opportunity users (a bare array).
func (c *Client) ListOpportunityUsers(ctx context.Context, p *ListOpportunityUsersParams) ([]OpportunityUser, error) {
	return getBare[[]OpportunityUser](ctx, c.org, "OpportunityUsers.List", http.MethodGet, "/v1/integrations/opportunity-users", nil, p, nil)
}

// CreateOpportunityUser links a user to an opportunity.
func (c *Client) CreateOpportunityUser(ctx context.Context, p *OpportunityUserParams) (*OpportunityUser, error) {
	if p == nil || p.OpportunityID == "" || p.UserID == "" {
		return nil, invalid("OpportunityUsers.Create", "opportunityId and userId are required")
	}
	return getBare[*OpportunityUser](ctx, c.org, "OpportunityUsers.Create", http.MethodPost, "/v1/integrations/opportunity-users", nil, nil, p)
}

// GetOpportunityUser returns one opportunity user.
func (c *Client) GetOpportunityUser(ctx context.Context, id string) (*OpportunityUser, error) {
	return getBare[*OpportunityUser](ctx, c.org, "OpportunityUsers.Get", http.MethodGet, "/v1/integrations/opportunity-users/{id}", []string{id}, nil, nil)
}

// UpdateOpportunityUser updates one opportunity user.
func (c *Client) UpdateOpportunityUser(ctx context.Context, id string, p *OpportunityUserParams) (*OpportunityUser, error) {
	if p == nil {
		return nil, invalid("OpportunityUsers.Update", "params are nil")
	}
	return getBare[*OpportunityUser](ctx, c.org, "OpportunityUsers.Update", http.MethodPut, "/v1/integrations/opportunity-users/{id}", []string{id}, nil, p)
}

// DeleteOpportunityUser deletes one opportunity user.
func (c *Client) DeleteOpportunityUser(ctx context.Context, id string) error {
	ok, err := getBare[bool](ctx, c.org, "OpportunityUsers.Delete", http.MethodDelete, "/v1/integrations/opportunity-users/{id}", []string{id}, nil, nil)
	return deleted("OpportunityUsers.Delete", ok, err)
}

// --- Accounts --------------------------------------------------------------

// Account is Siro's account record.
type Account struct {
	ID             string            `json:"id"`
	ExternalID     string            `json:"externalId"`
	Latitude       *float64          `json:"latitude"`
	Longitude      *float64          `json:"longitude"`
	Addresses      []json.RawMessage `json:"addresses"`
	PhoneNumbers   []string          `json:"phoneNumbers"`
	EmailAddresses []string          `json:"emailAddresses"`
	Name           string            `json:"name"`
	CreatedAt      webhook.Time      `json:"createdAt"`
	UpdatedAt      webhook.Time      `json:"updatedAt"`
}

// AccountParams is the body of CreateAccount (ExternalID required, and
// either Latitude and Longitude or Addresses) and UpdateAccount (ExternalID
// is not sent).
type AccountParams struct {
	ExternalID     string        `json:"externalId,omitempty"`
	Name           string        `json:"name,omitempty"`
	Latitude       *float64      `json:"latitude,omitempty"`
	Longitude      *float64      `json:"longitude,omitempty"`
	PhoneNumbers   []string      `json:"phoneNumbers,omitempty"`
	EmailAddresses []string      `json:"emailAddresses,omitempty"`
	Addresses      []SyncAddress `json:"addresses,omitempty"`
}

// ListAccounts returns every account (a bare array, no pagination declared).
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	return getBare[[]Account](ctx, c.org, "Accounts.List", http.MethodGet, "/v1/integrations/accounts", nil, nil, nil)
}

// CreateAccount creates an account on its own (accounts can also be synced
// nested in engagements and opportunities).
func (c *Client) CreateAccount(ctx context.Context, p *AccountParams) (*Account, error) {
	switch {
	case p == nil || p.ExternalID == "":
		return nil, invalid("Accounts.Create", "externalId is required")
	case (p.Latitude == nil || p.Longitude == nil) && len(p.Addresses) == 0:
		return nil, invalid("Accounts.Create", "give latitude and longitude, or addresses")
	}
	return getBare[*Account](ctx, c.org, "Accounts.Create", http.MethodPost, "/v1/integrations/accounts", nil, nil, p)
}

// GetAccount returns an account by Siro id.
func (c *Client) GetAccount(ctx context.Context, id string) (*Account, error) {
	return getBare[*Account](ctx, c.org, "Accounts.Get", http.MethodGet, "/v1/integrations/accounts/{id}", []string{id}, nil, nil)
}

// UpdateAccount updates an account by Siro id.
func (c *Client) UpdateAccount(ctx context.Context, id string, p *AccountParams) (*Account, error) {
	if p == nil {
		return nil, invalid("Accounts.Update", "params are nil")
	}
	body := *p
	body.ExternalID = ""
	return getBare[*Account](ctx, c.org, "Accounts.Update", http.MethodPut, "/v1/integrations/accounts/{id}", []string{id}, nil, &body)
}

// DeleteAccount deletes an account.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	ok, err := getBare[bool](ctx, c.org, "Accounts.Delete", http.MethodDelete, "/v1/integrations/accounts/{id}", []string{id}, nil, nil)
	return deleted("Accounts.Delete", ok, err)
}

// --- CRM (integration) users ---------------------------------------------

// ListCRMUsersParams pages GET /v1/integrations/users.
type ListCRMUsersParams struct {
	Cursor   Cursor `url:"cursor,omitempty"`
	PageSize int    `url:"pageSize,omitempty"`
}

// ListCRMUsers returns a page of external (CRM) users; Siro does not type
// the items, so they are raw JSON.
func (c *Client) ListCRMUsers(ctx context.Context, p *ListCRMUsersParams) (*Page[json.RawMessage], error) {
	return getPage[json.RawMessage](ctx, c.org, "CRMUsers.List", "/v1/integrations/users", nil, p)
}

// AllCRMUsers iterates every CRM user.
func (c *Client) AllCRMUsers(ctx context.Context, p *ListCRMUsersParams) iter.Seq2[json.RawMessage, error] {
	return all(ctx, p, func(q *ListCRMUsersParams) *Cursor { return &q.Cursor }, c.ListCRMUsers)
}

// GetCRMUser returns one CRM user ({data}, untyped by Siro).
func (c *Client) GetCRMUser(ctx context.Context, id string) (json.RawMessage, error) {
	return getData[json.RawMessage](ctx, c.org, "CRMUsers.Get", http.MethodGet, "/v1/integrations/users/{id}", []string{id}, nil, nil)
}

// deleted turns Siro's boolean delete answer into an error: false means
// nothing was deleted (ErrNotDeleted).
func deleted(op string, ok bool, err error) error {
	if err == nil && !ok {
		return fmt.Errorf("siro: %s: %w", op, ErrNotDeleted)
	}
	return err
}
