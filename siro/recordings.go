package siro

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
)

// CRMRef is a synced CRM object: Siro's id and the CRM's externalId.
type CRMRef struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
}

// CRMLinks are the CRM objects a recording is linked to; the same block
// arrives in webhooks and with ShowCRMLinks.
type CRMLinks struct {
	IntegrationConnectionID string   `json:"integrationConnectionId"`
	Users                   []CRMRef `json:"users,omitempty"`
	Engagement              *CRMRef  `json:"engagement,omitempty"`
	Opportunity             *CRMRef  `json:"opportunity,omitempty"`
	Contacts                []CRMRef `json:"contacts,omitempty"`
	Account                 *CRMRef  `json:"account,omitempty"`
	Lead                    *CRMRef  `json:"lead,omitempty"`
}

// SummarySection is one section of a recording summary.
type SummarySection struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Content string `json:"content"`
}

// CRMMapping says which CRM field an extracted value maps to.
type CRMMapping struct {
	CRMModelName string `json:"crmModelName"`
	CRMFieldName string `json:"crmFieldName"`
}

// ExtractedField is one extracted value with its CRM mappings. Value is a
// string, number, boolean, null or an array of those, as raw JSON.
type ExtractedField struct {
	Name     string          `json:"name"`
	Value    json.RawMessage `json:"value"`
	Mappings []CRMMapping    `json:"mappings"`
}

// String renders Value: a JSON string unquoted, anything else as JSON.
func (f ExtractedField) String() string {
	var s string
	if json.Unmarshal(f.Value, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(f.Value))
}

// Recording is a recording as the org API returns it.
type Recording struct {
	ID                     string           `json:"id"`
	OrganizationID         string           `json:"organizationId"`
	UserID                 string           `json:"userId"`
	Title                  string           `json:"title"`
	DurationInMilliseconds float64          `json:"durationInMilliseconds"`
	Latitude               *float64         `json:"latitude"`
	Longitude              *float64         `json:"longitude"`
	Result                 Disposition      `json:"result"`
	CreatedAt              webhook.Time     `json:"createdAt"`
	UpdatedAt              webhook.Time     `json:"updatedAt"`
	RootDataPurgedAt       *webhook.Time    `json:"rootDataPurgedAt"`
	Deleted                bool             `json:"deleted"`
	DeletedAt              *webhook.Time    `json:"deletedAt"`
	Links                  RecordingLinks   `json:"links"`
	IsProcessingDone       *bool            `json:"isProcessingDone"`
	IsEntityExtractionDone *bool            `json:"isEntityExtractionDone"`
	IsSummaryDone          *bool            `json:"isSummaryDone"`
	CRM                    *CRMLinks        `json:"crm"`
	Summary                []SummarySection `json:"summary"`
	EntityExtractions      []ExtractedField `json:"entityExtractions"`
	EvaluationScore        *float64         `json:"evaluationScore"`
	// Followups are {id, score} summaries in lists and full objects from
	// GetRecording; kept raw.
	Followups json.RawMessage `json:"followups"`
}

// RecordingLinks are the recording's app links.
type RecordingLinks struct {
	Web struct {
		Self string `json:"self"`
	} `json:"web"`
}

// RecordingShow selects optional blocks (all off by default).
type RecordingShow struct {
	ShowCRMLinks          bool `url:"showCrmLinks,omitempty"`
	ShowSummary           bool `url:"showSummary,omitempty"`
	ShowEntityExtractions bool `url:"showEntityExtractions,omitempty"`
	ShowEvaluationScore   bool `url:"showEvaluationScore,omitempty"`
	ShowFollowups         bool `url:"showFollowups,omitempty"`
}

// ListRecordingsParams filters GET /v1/core/recordings on the org API. The
// colon is part of the parameter names ("updatedAt:gte"); use UpdatedAtGTE
// for incremental polling.
type ListRecordingsParams struct {
	RecordingShow
	CreatedAtGT  *webhook.Time `url:"createdAt:gt,omitempty"`
	CreatedAtLT  *webhook.Time `url:"createdAt:lt,omitempty"`
	UpdatedAtGTE *webhook.Time `url:"updatedAt:gte,omitempty"`
	UpdatedAtGT  *webhook.Time `url:"updatedAt:gt,omitempty"`
	UpdatedAtLT  *webhook.Time `url:"updatedAt:lt,omitempty"`
	UpdatedAtLTE *webhook.Time `url:"updatedAt:lte,omitempty"`
	PageSize     int           `url:"pageSize,omitempty"`
	Cursor       Cursor        `url:"cursor,omitempty"`
	// Filters where false is meaningful are pointers.
	IsProcessingDone       *bool `url:"isProcessingDone,omitempty"`
	IsEntityExtractionDone *bool `url:"isEntityExtractionDone,omitempty"`
	IsSummaryDone          *bool `url:"isSummaryDone,omitempty"`
}

// ListRecordings returns one page of recordings (org token).
func (c *Client) ListRecordings(ctx context.Context, p *ListRecordingsParams) (*Page[Recording], error) {
	return getPage[Recording](ctx, c.org, "Recordings.List", "/v1/core/recordings", nil, p)
}

// AllRecordings iterates every recording matching p (p is not modified).
func (c *Client) AllRecordings(ctx context.Context, p *ListRecordingsParams) iter.Seq2[Recording, error] {
	return all(ctx, p, func(q *ListRecordingsParams) *Cursor { return &q.Cursor }, c.ListRecordings)
}

// GetRecording returns a recording through the org API (bare object); the
// org token alone can read its summary, extractions and CRM links.
func (c *Client) GetRecording(ctx context.Context, id string, show *RecordingShow) (*Recording, error) {
	return getBare[*Recording](ctx, c.org, "Recordings.Get", http.MethodGet, "/v1/core/recordings/{id}", []string{id}, show, nil)
}

// GetRecordingSummaries returns a recording's summary sections (org API).
// Siro's OpenAPI document answers a bare array and its quickstart guide a
// {"data": [...]} envelope; both are accepted.
func (c *Client) GetRecordingSummaries(ctx context.Context, id string) ([]SummarySection, error) {
	s, err := getBare[summarySections](ctx, c.org, "Recordings.Summaries", http.MethodGet, "/v1/core/recordings/{id}/summaries", []string{id}, nil, nil)
	return []SummarySection(s), err
}

// summarySections decodes a bare array of sections or one inside
// {"data": [...]}.
type summarySections []SummarySection

func (s *summarySections) UnmarshalJSON(b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		var env struct {
			Data []SummarySection `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			return err
		}
		*s = env.Data
		return nil
	}
	return json.Unmarshal(b, (*[]SummarySection)(s))
}

// --- Mobile events -----------------------------------------------------------

// MobileEventCode is a mobile event's code.
type MobileEventCode string

// Mobile event codes.
const (
	MobileRecorderStateChange      MobileEventCode = "recorderStateChange"
	MobileNetworkStatusChange      MobileEventCode = "networkStatusChange"
	MobileAppStateChange           MobileEventCode = "appStateChange"
	MobileConsentStatusChanged     MobileEventCode = "consentStatusChanged"
	MobileRecordingMetadataChanged MobileEventCode = "recordingMetadataChanged"
	MobileDeeplinkReceived         MobileEventCode = "deeplinkReceived"
	MobileDeeplinkConsumed         MobileEventCode = "deeplinkConsumed"
	MobileUserAuthStatusChanged    MobileEventCode = "userAuthStatusChanged"
)

// MobileEvent is an event from Siro's mobile app. Event's shape depends on
// EventCode and is kept raw.
type MobileEvent struct {
	ID                     string          `json:"id"`
	RecordingID            string          `json:"recordingId"`
	ExternalOpportunityIDs []string        `json:"externalOpportunityIds"`
	UserID                 string          `json:"userId"`
	OrganizationID         string          `json:"organizationId"`
	EventCode              MobileEventCode `json:"eventCode"`
	Event                  json.RawMessage `json:"event"`
	CreatedAt              webhook.Time    `json:"createdAt"`
}

// mobileEvents decodes data as []MobileEvent or, as the spec declares it,
// [][]MobileEvent (flattened).
type mobileEvents []MobileEvent

func (m *mobileEvents) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]MobileEvent, 0, len(raw))
	for _, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) > 0 && r[0] == '[' {
			var inner []MobileEvent
			if err := json.Unmarshal(r, &inner); err != nil {
				return err
			}
			out = append(out, inner...)
			continue
		}
		var e MobileEvent
		if err := json.Unmarshal(r, &e); err != nil {
			return err
		}
		out = append(out, e)
	}
	*m = out
	return nil
}

// ListMobileEventsParams filters GET /v1/core/mobile-events.
type ListMobileEventsParams struct {
	CreatedAtGT *webhook.Time `url:"createdAtGt,omitempty"`
	CreatedAtLT *webhook.Time `url:"createdAtLt,omitempty"`
	Cursor      Cursor        `url:"cursor,omitempty"`
	// PageSize is 1 to 1000 (Siro's default 100).
	PageSize int `url:"pageSize,omitempty"`
	// EventCodeIn filters by up to 10 codes (sent as repeated parameters).
	EventCodeIn []MobileEventCode `url:"eventCodeIn,omitempty"`
	UserID      string            `url:"userId,omitempty"`
	RecordingID string            `url:"recordingId,omitempty"`
}

// ListMobileEvents returns one page of mobile events.
func (c *Client) ListMobileEvents(ctx context.Context, p *ListMobileEventsParams) (*Page[MobileEvent], error) {
	if p != nil && (p.PageSize < 0 || p.PageSize > 1000) {
		return nil, invalid("MobileEvents.List", fmt.Sprintf("pageSize %d is not within 1..1000", p.PageSize))
	}
	if p != nil && len(p.EventCodeIn) > 10 {
		return nil, invalid("MobileEvents.List", "eventCodeIn takes at most 10 codes")
	}
	if p != nil {
		for i, code := range p.EventCodeIn {
			if err := checkEnum(fmt.Sprintf("eventCodeIn[%d]", i), code, mobileEventCodes); err != nil {
				return nil, invalid("MobileEvents.List", err.Error())
			}
		}
	}
	var env struct {
		Data   mobileEvents `json:"data"`
		Cursor Cursor       `json:"cursor"`
	}
	if err := do(ctx, c.org, "MobileEvents.List", http.MethodGet, "/v1/core/mobile-events", nil, p, nil, &env); err != nil {
		return nil, err
	}
	return &Page[MobileEvent]{Data: env.Data, Cursor: env.Cursor}, nil
}

// AllMobileEvents iterates every mobile event matching p.
func (c *Client) AllMobileEvents(ctx context.Context, p *ListMobileEventsParams) iter.Seq2[MobileEvent, error] {
	return all(ctx, p, func(q *ListMobileEventsParams) *Cursor { return &q.Cursor }, c.ListMobileEvents)
}

// GetMobileEvent returns one mobile event (bare object).
func (c *Client) GetMobileEvent(ctx context.Context, id string) (*MobileEvent, error) {
	return getBare[*MobileEvent](ctx, c.org, "MobileEvents.Get", http.MethodGet, "/v1/core/mobile-events/{id}", []string{id}, nil, nil)
}
