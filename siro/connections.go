package siro

import (
	"context"
	"iter"
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
)

// IntegrationPlatform names a CRM integration platform.
type IntegrationPlatform string

// Platforms a connection can be created for (the list filter accepts more,
// such as PlatformSalesforce; see enums.go).
const (
	PlatformMerge           IntegrationPlatform = "MERGE"
	PlatformSiroCustomInput IntegrationPlatform = "SIRO_CUSTOM_INPUT"
	PlatformServiceTitan    IntegrationPlatform = "SERVICE_TITAN"
	PlatformCompanyCam      IntegrationPlatform = "COMPANY_CAM"
	PlatformIngage          IntegrationPlatform = "INGAGE"
	PlatformLeadPerfection  IntegrationPlatform = "LEAD_PERFECTION"
	PlatformSpotio          IntegrationPlatform = "SPOTIO"
)

// IntegrationConnection is a CRM connection of the organization.
type IntegrationConnection struct {
	ID                  string              `json:"id"`
	Name                string              `json:"name"`
	ExternalAccountID   string              `json:"externalAccountId"`
	OrganizationID      string              `json:"organizationId"`
	IntegrationPlatform IntegrationPlatform `json:"integrationPlatform"`
	CreatedAt           webhook.Time        `json:"createdAt"`
	UpdatedAt           webhook.Time        `json:"updatedAt"`
	IsActive            bool                `json:"isActive"`
	SyncStatus          []SyncStatus        `json:"syncStatus"`
	SyncTranscript      *bool               `json:"syncTranscript"`
}

// SyncStatus is one model's sync state on a connection.
type SyncStatus struct {
	ID                 string          `json:"id"`
	ModelName          string          `json:"modelName"`
	ModelSyncStatus    ModelSyncStatus `json:"modelSyncStatus"`
	ModelModifiedAfter *webhook.Time   `json:"modelModifiedAfter"`
	CreatedAt          webhook.Time    `json:"createdAt"`
	UpdatedAt          *webhook.Time   `json:"updatedAt"`
}

// ListConnectionsParams filters ListConnections.
type ListConnectionsParams struct {
	IntegrationPlatform IntegrationPlatform `url:"integrationPlatform,omitempty"`
	// Cursor is sent as the cursor query parameter, which Siro's
	// documents do not list for this call (see ListConnections).
	Cursor Cursor `url:"cursor,omitempty"`
}

// ListConnections returns one page of integration connections.
//
// Siro's documents give this call's answer a cursor but list no cursor
// query parameter to send it back with: the SDK sends it as cursor, like
// Siro's other cursor lists, an inference. If Siro ignores it and answers
// the same page again, AllConnections' pager stops instead of yielding it
// twice or looping (its guard against a repeated cursor).
func (c *Client) ListConnections(ctx context.Context, p *ListConnectionsParams) (*Page[IntegrationConnection], error) {
	if err := checkEnum("integrationPlatform", listPlatform(p), listablePlatforms); err != nil {
		return nil, invalid("Connections.List", err.Error())
	}
	return getPage[IntegrationConnection](ctx, c.org, "Connections.List", "/v1/core/integrations/connections", nil, p)
}

// AllConnections iterates every integration connection. Its pager stops
// when Siro answers a cursor it already gave (the connections cursor
// parameter is undocumented; see ListConnections).
func (c *Client) AllConnections(ctx context.Context, p *ListConnectionsParams) iter.Seq2[IntegrationConnection, error] {
	return all(ctx, p, func(q *ListConnectionsParams) *Cursor { return &q.Cursor }, c.ListConnections)
}

// CreateConnectionParams is the body of CreateConnection. IsActive defaults
// to true at Siro; set it to send false.
type CreateConnectionParams struct {
	Name                string              `json:"name"`
	IntegrationPlatform IntegrationPlatform `json:"integrationPlatform"`
	ExternalAccountID   string              `json:"externalAccountId"`
	IsActive            *bool               `json:"isActive,omitempty"`
}

// CreateConnection creates an integration connection (409 ErrConflict for
// a duplicate platform).
func (c *Client) CreateConnection(ctx context.Context, p *CreateConnectionParams) (*IntegrationConnection, error) {
	if p == nil || p.Name == "" || p.IntegrationPlatform == "" || p.ExternalAccountID == "" {
		return nil, invalid("Connections.Create", "name, integrationPlatform and externalAccountId are required")
	}
	if err := checkEnum("integrationPlatform", p.IntegrationPlatform, creatablePlatforms); err != nil {
		return nil, invalid("Connections.Create", err.Error())
	}
	return getBare[*IntegrationConnection](ctx, c.org, "Connections.Create", http.MethodPost, "/v1/core/integrations/connections", nil, nil, p)
}

// GetConnection returns one connection (404 also means "no permission").
func (c *Client) GetConnection(ctx context.Context, id string) (*IntegrationConnection, error) {
	return getBare[*IntegrationConnection](ctx, c.org, "Connections.Get", http.MethodGet, "/v1/core/integrations/connections/{id}", []string{id}, nil, nil)
}

// UpdateConnectionParams is the PATCH body; nil fields are left unchanged.
type UpdateConnectionParams struct {
	Name           *string `json:"name,omitempty"`
	IsActive       *bool   `json:"isActive,omitempty"`
	SyncTranscript *bool   `json:"syncTranscript,omitempty"`
}

// UpdateConnection patches a connection.
func (c *Client) UpdateConnection(ctx context.Context, id string, p *UpdateConnectionParams) (*IntegrationConnection, error) {
	if p == nil {
		return nil, invalid("Connections.Update", "params are nil")
	}
	return getBare[*IntegrationConnection](ctx, c.org, "Connections.Update", http.MethodPatch, "/v1/core/integrations/connections/{id}", []string{id}, nil, p)
}

// DeleteConnection deletes a connection and returns it.
func (c *Client) DeleteConnection(ctx context.Context, id string) (*IntegrationConnection, error) {
	return getBare[*IntegrationConnection](ctx, c.org, "Connections.Delete", http.MethodDelete, "/v1/core/integrations/connections/{id}", []string{id}, nil, nil)
}

// SalesforceParams is the body of UpsertSalesforce.
type SalesforceParams struct {
	Namespace   string `json:"namespace"`
	OrgID       string `json:"org_id"`
	InstanceURL string `json:"instance_url"`
	// RefreshToken is deprecated by Siro in favour of Username.
	RefreshToken string `json:"refresh_token,omitempty"`
	Username     string `json:"username,omitempty"`
	IsProd       *bool  `json:"is_prod,omitempty"`
	UseProdECA   *bool  `json:"use_prod_eca,omitempty"`
}

// UpsertSalesforce upserts the Salesforce connection's authentication.
func (c *Client) UpsertSalesforce(ctx context.Context, p *SalesforceParams) (connectionID string, active bool, err error) {
	if p == nil || p.Namespace == "" || p.OrgID == "" || p.InstanceURL == "" {
		return "", false, invalid("Connections.UpsertSalesforce", "namespace, org_id and instance_url are required")
	}
	out, err := getBare[struct {
		IntegrationConnectionID string `json:"integrationConnectionId"`
		IsActive                bool   `json:"isActive"`
	}](ctx, c.org, "Connections.UpsertSalesforce", http.MethodPut, "/v1/core/integrations/salesforce", nil, nil, p)
	return out.IntegrationConnectionID, out.IsActive, err
}
