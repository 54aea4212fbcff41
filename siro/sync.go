package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/core"
)

func invalid(op, msg string) error {
	return fmt.Errorf("siro: %s: %w: %s", op, ErrInvalidRequest, msg)
}

// ActivityType is an engagement type's activity. Only MEETING, APPOINTMENT
// and EVENT count as appointments in Siro's app.
type ActivityType string

// Activity types.
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

// Time is a timestamp sent as "2006-01-02T15:04:05.000Z" in UTC, the form
// Siro's reference uses.
type Time struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// At returns a *Time for optional fields.
func At(t time.Time) *Time { return &Time{t} }

// EngagementType is the type object of a synced engagement.
type EngagementType struct {
	ExternalID   string       `json:"externalId,omitempty"`
	Name         string       `json:"name"`
	ActivityType ActivityType `json:"activityType"`
}

// SyncUser links a CRM user to an engagement or opportunity.
type SyncUser struct {
	ExternalID  string   `json:"externalId"`
	Email       string   `json:"email,omitempty"`
	ShareOfSale *float64 `json:"shareOfSale,omitempty"` // 0 is meaningful: a pointer
	Name        string   `json:"name,omitempty"`
	DeletedAt   *Time    `json:"deletedAt,omitempty"`
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
	LastActivityAt *Time         `json:"lastActivityAt,omitempty"`
	DeletedAt      *Time         `json:"deletedAt,omitempty"`
}

// SyncEngagementOpportunity is the opportunity nested in an engagement.
type SyncEngagementOpportunity struct {
	ExternalID                  string      `json:"externalId"`
	Name                        string      `json:"name,omitempty"`
	Amount                      *float64    `json:"amount,omitempty"`
	ClosedAt                    *Time       `json:"closedAt,omitempty"`
	RemoteCreatedAt             *Time       `json:"remoteCreatedAt,omitempty"`
	LastActivityAt              *Time       `json:"lastActivityAt,omitempty"`
	Disposition                 Disposition `json:"disposition,omitempty"`
	CopyEngagementRelationships *bool       `json:"copyEngagementRelationships,omitempty"`
}

// SyncEngagement is the body of a sync (SyncEngagementBody).
type SyncEngagement struct {
	ExternalID         string                     `json:"externalId"`
	Direction          Direction                  `json:"direction,omitempty"`
	Content            string                     `json:"content,omitempty"`
	Subject            string                     `json:"subject,omitempty"`
	StartTime          *Time                      `json:"startTime,omitempty"`
	StartTimeLocalized string                     `json:"startTimeLocalized,omitempty"`
	EndTime            *Time                      `json:"endTime,omitempty"`
	RemoteCreatedAt    *Time                      `json:"remoteCreatedAt,omitempty"`
	RemoteUpdatedAt    *Time                      `json:"remoteUpdatedAt,omitempty"`
	DeletedAt          *Time                      `json:"deletedAt,omitempty"`
	EngagementTypeID   string                     `json:"engagementTypeId,omitempty"`
	EngagementType     *EngagementType            `json:"engagementType,omitempty"`
	Account            *SyncAccount               `json:"account,omitempty"`
	EngagementUsers    []SyncUser                 `json:"engagementUsers,omitempty"`
	Opportunity        *SyncEngagementOpportunity `json:"opportunity,omitempty"`
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
	StartTime          string          `json:"startTime"`
	StartTimeLocalized string          `json:"startTimeLocalized"`
	EndTime            string          `json:"endTime"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
	RecordingID        string          `json:"recordingId"`
	OpportunityID      string          `json:"opportunityId"`
	AccountID          string          `json:"accountId"`
	OrganizationID     string          `json:"organizationId"`
	Account            json.RawMessage `json:"account"`
	EngagementUsers    json.RawMessage `json:"engagementUsers"`
}

// SyncEngagement upserts one engagement (PUT /v1/integrations/sync/engagements).
func (c *Client) SyncEngagement(ctx context.Context, e *SyncEngagement) (*Engagement, error) {
	if err := e.Validate(); err != nil {
		return nil, invalid("Sync.Engagement", err.Error())
	}
	var env struct {
		Data Engagement `json:"data"`
	}
	if _, err := c.org.Do(ctx, &core.Request{Operation: "Sync.Engagement", Method: http.MethodPut,
		Route: "/v1/integrations/sync/engagements", Body: e}, &env); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// SyncEngagements upserts a batch (PUT /v1/integrations/sync/batch/engagements).
func (c *Client) SyncEngagements(ctx context.Context, es []SyncEngagement) ([]Engagement, error) {
	if len(es) == 0 {
		return nil, invalid("Sync.Engagements", "the batch is empty")
	}
	for i := range es {
		if err := es[i].Validate(); err != nil {
			return nil, invalid("Sync.Engagements", fmt.Sprintf("[%d]: %v", i, err))
		}
	}
	var env struct {
		Data []Engagement `json:"data"`
	}
	if _, err := c.org.Do(ctx, &core.Request{Operation: "Sync.Engagements", Method: http.MethodPut,
		Route: "/v1/integrations/sync/batch/engagements", Body: es}, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}
