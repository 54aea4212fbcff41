package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

func invalid(op, msg string) error {
	return fmt.Errorf("siro: %s: %w: %s", op, ErrInvalidRequest, msg)
}

// ActivityType is an engagement type's activity. Only MEETING, APPOINTMENT
// and EVENT count as appointments in Siro's app.
type ActivityType string

// Activity types of Siro's guide (see also ActivitySiroEvent and
// ActivitySiroBotRecording).
const (
	ActivityMeeting     ActivityType = "MEETING"
	ActivityCall        ActivityType = "CALL"
	ActivityAppointment ActivityType = "APPOINTMENT"
	ActivityEmail       ActivityType = "EMAIL"
	ActivityText        ActivityType = "TEXT"
	ActivityEvent       ActivityType = "EVENT"
)

// Direction of an engagement.
type Direction string

// Directions.
const (
	Inbound  Direction = "INBOUND"
	Outbound Direction = "OUTBOUND"
)

// Disposition of an opportunity.
type Disposition string

// Dispositions.
const (
	DispositionOpen Disposition = "OPEN"
	DispositionWon  Disposition = "WON"
	DispositionLost Disposition = "LOST"
)

var dispositions = []Disposition{DispositionOpen, DispositionLost, DispositionWon}

// At returns a *webhook.Time for optional fields. Siro's timestamps are
// webhook.Time, both ways: sent in UTC with milliseconds, the form Siro's
// reference uses, and decoded leniently.
func At(t time.Time) *webhook.Time { return &webhook.Time{Time: t, Valid: true} }

// EngagementType is the type object of a synced engagement.
type EngagementType struct {
	ExternalID   string       `json:"externalId,omitempty"`
	Name         string       `json:"name"`
	ActivityType ActivityType `json:"activityType"`
}

// SyncUser links a CRM user to an engagement or opportunity.
type SyncUser struct {
	ExternalID  string        `json:"externalId"`
	Email       string        `json:"email,omitempty"`
	ShareOfSale *float64      `json:"shareOfSale,omitempty"` // 0 is meaningful: a pointer
	Name        string        `json:"name,omitempty"`
	DeletedAt   *webhook.Time `json:"deletedAt,omitempty"`
}

// SyncAddress is a postal address; every field is required by Siro.
type SyncAddress struct {
	Country string `json:"country"`
	Street  string `json:"street"`
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
}

// SyncAccount is an account nested in a sync (an externalId alone resolves
// to an already-synced account).
type SyncAccount struct {
	ExternalID     string        `json:"externalId,omitempty"`
	Name           string        `json:"name,omitempty"`
	Latitude       *float64      `json:"latitude,omitempty"`
	Longitude      *float64      `json:"longitude,omitempty"`
	Addresses      []SyncAddress `json:"addresses,omitempty"`
	PhoneNumbers   []string      `json:"phoneNumbers,omitempty"`
	EmailAddresses []string      `json:"emailAddresses,omitempty"`
	LastActivityAt *webhook.Time `json:"lastActivityAt,omitempty"`
	DeletedAt      *webhook.Time `json:"deletedAt,omitempty"`
	Owner          *Owner        `json:"owner,omitempty"`
	// MergedToExternalID names the surviving account of a merge.
	MergedToExternalID string `json:"mergedToExternalId,omitempty"`
	// MergedFromExternalIDs names accounts merged into this one.
	MergedFromExternalIDs []string `json:"mergedFromExternalIds,omitempty"`
}

// SyncEngagementOpportunity is the opportunity nested in an engagement.
type SyncEngagementOpportunity struct {
	ExternalID                  string        `json:"externalId"`
	Name                        string        `json:"name,omitempty"`
	Amount                      *float64      `json:"amount,omitempty"`
	ClosedAt                    *webhook.Time `json:"closedAt,omitempty"`
	RemoteCreatedAt             *webhook.Time `json:"remoteCreatedAt,omitempty"`
	LastActivityAt              *webhook.Time `json:"lastActivityAt,omitempty"`
	Disposition                 Disposition   `json:"disposition,omitempty"`
	CopyEngagementRelationships *bool         `json:"copyEngagementRelationships,omitempty"`
}

// SyncEngagement is the body of a sync (SyncEngagementBody).
type SyncEngagement struct {
	ExternalID         string                     `json:"externalId"`
	Direction          Direction                  `json:"direction,omitempty"`
	Content            string                     `json:"content,omitempty"`
	Subject            string                     `json:"subject,omitempty"`
	StartTime          *webhook.Time              `json:"startTime,omitempty"`
	StartTimeLocalized string                     `json:"startTimeLocalized,omitempty"`
	EndTime            *webhook.Time              `json:"endTime,omitempty"`
	RemoteCreatedAt    *webhook.Time              `json:"remoteCreatedAt,omitempty"`
	RemoteUpdatedAt    *webhook.Time              `json:"remoteUpdatedAt,omitempty"`
	DeletedAt          *webhook.Time              `json:"deletedAt,omitempty"`
	EngagementTypeID   string                     `json:"engagementTypeId,omitempty"`
	EngagementType     *EngagementType            `json:"engagementType,omitempty"`
	Account            *SyncAccount               `json:"account,omitempty"`
	EngagementUsers    []SyncUser                 `json:"engagementUsers,omitempty"`
	Opportunity        *SyncEngagementOpportunity `json:"opportunity,omitempty"`
	Lead               *SyncLead                  `json:"lead,omitempty"`
	Contact            *SyncContact               `json:"contact,omitempty"`
}

// Validate checks what Siro requires before any request.
func (e *SyncEngagement) Validate() error {
	switch {
	case e == nil:
		return fmt.Errorf("engagement is nil")
	case e.ExternalID == "":
		return fmt.Errorf("externalId is required")
	case e.StartTime != nil && e.EndTime != nil && e.EndTime.Before(e.StartTime.Time):
		return fmt.Errorf("engagement %s: endTime %s is before startTime %s", e.ExternalID, e.EndTime.Format(time.RFC3339), e.StartTime.Format(time.RFC3339))
	case e.EngagementType != nil && (e.EngagementType.Name == "" || e.EngagementType.ActivityType == ""):
		return fmt.Errorf("engagement %s: engagementType needs name and activityType", e.ExternalID)
	case e.Opportunity != nil && e.Opportunity.ExternalID == "":
		return fmt.Errorf("engagement %s: opportunity.externalId is required", e.ExternalID)
	case e.Contact != nil && e.Contact.ExternalID == "":
		return fmt.Errorf("engagement %s: contact.externalId is required", e.ExternalID)
	case e.Lead != nil && e.Lead.ExternalID == "":
		return fmt.Errorf("engagement %s: lead.externalId is required", e.ExternalID)
	}
	if err := checkEnum("direction", e.Direction, []Direction{Inbound, Outbound}); err != nil {
		return fmt.Errorf("engagement %s: %w", e.ExternalID, err)
	}
	if e.EngagementType != nil {
		if err := checkEnum("engagementType.activityType", e.EngagementType.ActivityType, activityTypes); err != nil {
			return fmt.Errorf("engagement %s: %w", e.ExternalID, err)
		}
	}
	if e.Opportunity != nil {
		if err := checkEnum("opportunity.disposition", e.Opportunity.Disposition, dispositions); err != nil {
			return fmt.Errorf("engagement %s: %w", e.ExternalID, err)
		}
	}
	for i, u := range e.EngagementUsers {
		if u.ExternalID == "" {
			return fmt.Errorf("engagement %s: engagementUsers[%d].externalId is required", e.ExternalID, i)
		}
	}
	return nil
}

// Engagement is Siro's engagement record.
type Engagement struct {
	ID                 string          `json:"id"`
	ExternalID         string          `json:"externalId"`
	EngagementType     string          `json:"engagementType"`
	Direction          Direction       `json:"direction"`
	Subject            string          `json:"subject"`
	Content            string          `json:"content"`
	StartTime          webhook.Time    `json:"startTime"`
	StartTimeLocalized string          `json:"startTimeLocalized"`
	EndTime            webhook.Time    `json:"endTime"`
	CreatedAt          webhook.Time    `json:"createdAt"`
	UpdatedAt          webhook.Time    `json:"updatedAt"`
	RecordingID        string          `json:"recordingId"`
	OpportunityID      string          `json:"opportunityId"`
	AccountID          string          `json:"accountId"`
	OrganizationID     string          `json:"organizationId"`
	Account            json.RawMessage `json:"account"`
	EngagementUsers    json.RawMessage `json:"engagementUsers"`
}

// SyncEngagement upserts one engagement (PUT /v1/integrations/sync/engagements).
func (c *Client) SyncEngagement(ctx context.Context, e *SyncEngagement) (*Engagement, error) {
	return upsert[*Engagement](ctx, c, "Sync.Engagement", "/v1/integrations/sync/engagements", e)
}

// SyncEngagements upserts a batch (PUT /v1/integrations/sync/batch/engagements).
func (c *Client) SyncEngagements(ctx context.Context, es []SyncEngagement) ([]Engagement, error) {
	return upsertBatch[[]Engagement](ctx, c, "Sync.Engagements", "/v1/integrations/sync/batch/engagements", es)
}

// Owner is the CRM owner of a synced record.
type Owner struct {
	ExternalID string `json:"externalId"`
}

// SyncContact is a contact nested in a sync (an externalId alone resolves
// to an already-synced contact).
type SyncContact struct {
	ExternalID            string        `json:"externalId"`
	Name                  string        `json:"name,omitempty"`
	Latitude              *float64      `json:"latitude,omitempty"`
	Longitude             *float64      `json:"longitude,omitempty"`
	Account               *SyncAccount  `json:"account,omitempty"`
	Addresses             []SyncAddress `json:"addresses,omitempty"`
	PhoneNumbers          []string      `json:"phoneNumbers,omitempty"`
	EmailAddresses        []string      `json:"emailAddresses,omitempty"`
	LastActivityAt        *webhook.Time `json:"lastActivityAt,omitempty"`
	DeletedAt             *webhook.Time `json:"deletedAt,omitempty"`
	Owner                 *Owner        `json:"owner,omitempty"`
	MergedToExternalID    string        `json:"mergedToExternalId,omitempty"`
	MergedFromExternalIDs []string      `json:"mergedFromExternalIds,omitempty"`
}

// SyncOpportunityContact is a contact of an opportunity
// (SyncOpportunity.OpportunityContacts): a SyncContact that can be marked
// primary. An engagement's contact has no such flag.
type SyncOpportunityContact struct {
	SyncContact
	// IsPrimary marks the opportunity's primary contact.
	IsPrimary *bool `json:"isPrimary,omitempty"`
}

// SyncLead is the lead nested in an engagement.
type SyncLead struct {
	ExternalID            string        `json:"externalId"`
	FirstName             string        `json:"firstName,omitempty"`
	LastName              string        `json:"lastName,omitempty"`
	Latitude              *float64      `json:"latitude,omitempty"`
	Longitude             *float64      `json:"longitude,omitempty"`
	Addresses             []SyncAddress `json:"addresses,omitempty"`
	PhoneNumbers          []string      `json:"phoneNumbers,omitempty"`
	EmailAddresses        []string      `json:"emailAddresses,omitempty"`
	LastActivityAt        *webhook.Time `json:"lastActivityAt,omitempty"`
	DeletedAt             *webhook.Time `json:"deletedAt,omitempty"`
	Owner                 *Owner        `json:"owner,omitempty"`
	MergedToExternalID    string        `json:"mergedToExternalId,omitempty"`
	MergedFromExternalIDs []string      `json:"mergedFromExternalIds,omitempty"`
}

// SyncOpportunity is the body of an opportunity sync (SyncOpportunityBody).
type SyncOpportunity struct {
	ExternalID          string                   `json:"externalId"`
	Name                string                   `json:"name,omitempty"`
	Amount              *float64                 `json:"amount,omitempty"` // 0 is a real amount: a pointer
	ClosedAt            *webhook.Time            `json:"closedAt,omitempty"`
	RemoteCreatedAt     *webhook.Time            `json:"remoteCreatedAt,omitempty"`
	LastActivityAt      *webhook.Time            `json:"lastActivityAt,omitempty"`
	DeletedAt           *webhook.Time            `json:"deletedAt,omitempty"`
	Disposition         Disposition              `json:"disposition,omitempty"`
	AccountID           string                   `json:"accountId,omitempty"`
	Account             *SyncAccount             `json:"account,omitempty"`
	OpportunityContacts []SyncOpportunityContact `json:"opportunityContacts,omitempty"`
	OpportunityUsers    []SyncUser               `json:"opportunityUsers,omitempty"`
}

// Validate checks what Siro requires before any request.
func (o *SyncOpportunity) Validate() error {
	switch {
	case o == nil:
		return fmt.Errorf("opportunity is nil")
	case o.ExternalID == "":
		return fmt.Errorf("externalId is required")
	}
	if err := checkEnum("disposition", o.Disposition, dispositions); err != nil {
		return fmt.Errorf("opportunity %s: %w", o.ExternalID, err)
	}
	for i, u := range o.OpportunityUsers {
		if u.ExternalID == "" {
			return fmt.Errorf("opportunity %s: opportunityUsers[%d].externalId is required", o.ExternalID, i)
		}
	}
	for i, c := range o.OpportunityContacts {
		if c.ExternalID == "" {
			return fmt.Errorf("opportunity %s: opportunityContacts[%d].externalId is required", o.ExternalID, i)
		}
	}
	return nil
}

// Opportunity is Siro's opportunity record.
type Opportunity struct {
	ID               string          `json:"id"`
	ExternalID       string          `json:"externalId"`
	Name             *string         `json:"name"`
	Amount           *float64        `json:"amount"`
	ClosedAt         webhook.Time    `json:"closedAt"`
	Disposition      Disposition     `json:"disposition"`
	CreatedAt        webhook.Time    `json:"createdAt"`
	UpdatedAt        webhook.Time    `json:"updatedAt"`
	RecordingID      string          `json:"recordingId"`
	AccountID        string          `json:"accountId"`
	OrganizationID   string          `json:"organizationId"`
	Account          json.RawMessage `json:"account"`
	OpportunityUsers json.RawMessage `json:"opportunityUsers"`
}

// SyncOpportunity upserts one opportunity (PUT /v1/integrations/sync/opportunities).
func (c *Client) SyncOpportunity(ctx context.Context, o *SyncOpportunity) (*Opportunity, error) {
	return upsert[*Opportunity](ctx, c, "Sync.Opportunity", "/v1/integrations/sync/opportunities", o)
}

// SyncOpportunities upserts a batch (PUT /v1/integrations/sync/batch/opportunities).
func (c *Client) SyncOpportunities(ctx context.Context, os []SyncOpportunity) ([]Opportunity, error) {
	return upsertBatch[[]Opportunity](ctx, c, "Sync.Opportunities", "/v1/integrations/sync/batch/opportunities", os)
}

// SoftDeleteRemovedParams names every engagement still present upstream
// whose startTime falls in [FromTime, ToTime].
type SoftDeleteRemovedParams struct {
	ValidExternalIDs []string     `json:"validExternalIds"`
	FromTime         webhook.Time `json:"fromTime"`
	ToTime           webhook.Time `json:"toTime"`
}

// SoftDeleteRemovedEngagements soft-deletes the engagements of this
// connection in the window that are not in ValidExternalIDs
// (POST /v1/integrations/sync/engagements/soft-delete-removed). An empty
// list soft-deletes the whole window, so it must be non-nil to be sent.
// Siro's {"success": false} is an error matching ErrNotDeleted.
func (c *Client) SoftDeleteRemovedEngagements(ctx context.Context, p *SoftDeleteRemovedParams) error {
	const op = "Sync.SoftDeleteRemovedEngagements"
	switch {
	case p == nil || p.ValidExternalIDs == nil:
		return invalid(op, "validExternalIds is required (an empty, non-nil list deletes the whole window)")
	case p.FromTime.IsZero() || p.ToTime.IsZero():
		return invalid(op, "fromTime and toTime are required")
	case p.ToTime.Before(p.FromTime.Time):
		return invalid(op, "toTime is before fromTime")
	}
	out, err := getData[struct {
		Success bool `json:"success"`
	}](ctx, c.org, op, http.MethodPost, "/v1/integrations/sync/engagements/soft-delete-removed", nil, nil, p)
	return deleted(op, out.Success, err)
}

// MultimediaEvent is a media file from the CRM (all fields but
// ExternalUserName are required by Siro).
type MultimediaEvent struct {
	DownloadURL          string       `json:"downloadUrl"`
	RemoteCreatedAt      webhook.Time `json:"remoteCreatedAt"`
	ExternalUserID       string       `json:"externalUserId"`
	ExternalUserName     string       `json:"externalUserName,omitempty"`
	ExternalEmailAddress string       `json:"externalEmailAddress"`
	ExternalID           string       `json:"externalId"`
	OrganizationID       string       `json:"organizationId"`
	MimeType             string       `json:"mimeType"`
	ExternalEventID      string       `json:"externalEventId"`
}

// Validate checks the fields Siro requires.
func (m *MultimediaEvent) Validate() error {
	if m == nil || m.DownloadURL == "" || m.RemoteCreatedAt.IsZero() || m.ExternalUserID == "" || m.ExternalEmailAddress == "" ||
		m.ExternalID == "" || m.OrganizationID == "" || m.MimeType == "" || m.ExternalEventID == "" {
		return fmt.Errorf("downloadUrl, remoteCreatedAt, externalUserId, externalEmailAddress, externalId, organizationId, mimeType and externalEventId are required")
	}
	return nil
}

// SyncMultimediaEvent syncs one multimedia event (PUT /v1/integrations/multimedia-events).
// Siro does not type the answer; it is returned raw.
func (c *Client) SyncMultimediaEvent(ctx context.Context, m *MultimediaEvent) (json.RawMessage, error) {
	if err := m.Validate(); err != nil {
		return nil, invalid("Sync.MultimediaEvent", err.Error())
	}
	return getUntyped(ctx, c.org, "Sync.MultimediaEvent", http.MethodPut, "/v1/integrations/multimedia-events", m)
}

// SyncMultimediaEvents syncs a batch (PUT /v1/integrations/batch/multimedia-events).
func (c *Client) SyncMultimediaEvents(ctx context.Context, ms []MultimediaEvent) (json.RawMessage, error) {
	if err := validateBatch("Sync.MultimediaEvents", ms); err != nil {
		return nil, err
	}
	return getUntyped(ctx, c.org, "Sync.MultimediaEvents", http.MethodPut, "/v1/integrations/batch/multimedia-events", ms)
}

// upsert validates v (a *SyncEngagement, ...; nil is an invalid request)
// and PUTs it to route, decoding the "data" of Siro's answer as R.
func upsert[R any](ctx context.Context, c *Client, op, route string, v interface{ Validate() error }) (R, error) {
	if err := v.Validate(); err != nil {
		var zero R
		return zero, invalid(op, err.Error())
	}
	return getData[R](ctx, c.org, op, http.MethodPut, route, nil, nil, v)
}

// upsertBatch is upsert for a non-empty batch, validated record by record.
func upsertBatch[R any, T any, P interface {
	*T
	Validate() error
}](ctx context.Context, c *Client, op, route string, batch []T) (R, error) {
	if err := validateBatch[T, P](op, batch); err != nil {
		var zero R
		return zero, err
	}
	return getData[R](ctx, c.org, op, http.MethodPut, route, nil, nil, batch)
}

// validateBatch checks a non-empty batch record by record, naming the index.
func validateBatch[T any, P interface {
	*T
	Validate() error
}](op string, batch []T) error {
	if len(batch) == 0 {
		return invalid(op, "the batch is empty")
	}
	for i := range batch {
		if err := P(&batch[i]).Validate(); err != nil {
			return invalid(op, fmt.Sprintf("[%d]: %v", i, err))
		}
	}
	return nil
}
