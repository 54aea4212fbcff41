package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
)

// RecordingDetailsShow selects optional blocks of GetRecordingDetails.
type RecordingDetailsShow struct {
	ShowCRMOpportunities  bool `url:"showCrmOpportunities,omitempty"`
	ShowEvaluationScore   bool `url:"showEvaluationScore,omitempty"`
	ShowFollowups         bool `url:"showFollowups,omitempty"`
	ShowCRMCustomers      bool `url:"showCrmCustomers,omitempty"`
	ShowSummary           bool `url:"showSummary,omitempty"`
	ShowEntityExtractions bool `url:"showEntityExtractions,omitempty"`
}

// RecordingDetails is a recording as the user API returns it.
type RecordingDetails struct {
	ID                     string                `json:"id"`
	DateCreated            webhook.Time          `json:"dateCreated"`
	TranscriptionStatus    TranscriptionStatus   `json:"transcriptionStatus,omitempty"`
	ProcessingStatus       ProcessingStatus      `json:"processingStatus,omitempty"`
	ProcessingStage        ProcessingStage       `json:"processingStage,omitempty"`
	OrganizationID         string                `json:"organizationId"`
	TeamID                 string                `json:"teamId"`
	UserID                 string                `json:"userId"`
	Title                  string                `json:"title"`
	DurationInMilliseconds float64               `json:"durationInMilliseconds"`
	Deleted                bool                  `json:"deleted"`
	ConversationType       string                `json:"conversationType"`
	TranscriptionLanguage  TranscriptionLanguage `json:"transcriptionLanguage,omitempty"`
	CRMOpportunities       []CRMOpportunity      `json:"crmOpportunities"`
	CRMCustomer            json.RawMessage       `json:"crmCustomer"`
	EvaluationScore        *float64              `json:"evaluationScore"`
	Followups              json.RawMessage       `json:"followups"`
	UniversalOutcomeLabel  *string               `json:"universalOutcomeLabel"`
	Summary                string                `json:"summary"`
	EntityExtractions      []EntityExtraction    `json:"entityExtractions"`
}

// CRMOpportunity is an opportunity linked to a recording.
type CRMOpportunity struct {
	OpportunityExternalID *string       `json:"opportunityExternalId"`
	AccountID             *string       `json:"accountId"`
	AccountName           *string       `json:"accountName"`
	AccountExternalID     *string       `json:"accountExternalId"`
	Disposition           *string       `json:"disposition"`
	ClosedAt              *webhook.Time `json:"closedAt"`
	Name                  *string       `json:"name"`
	Amount                *float64      `json:"amount"`
	IntegrationName       *string       `json:"integrationName"`
	IntegrationPlatform   *string       `json:"integrationPlatform"`
	Addresses             []struct {
		Street  string `json:"street"`
		City    string `json:"city"`
		State   string `json:"state"`
		Zip     string `json:"zip"`
		Country string `json:"country"`
	} `json:"addresses"`
}

// EntityExtraction is one entity definition's output for a recording.
type EntityExtraction struct {
	ID                          string           `json:"id"`
	RecordingID                 string           `json:"recordingId"`
	SiroEntityDefinitionID      string           `json:"siroEntityDefinitionId"`
	SiroEntityDefinitionName    *string          `json:"siroEntityDefinitionName"`
	SiroEntityDefinitionDeleted bool             `json:"siroEntityDefinitionDeleted"`
	Status                      ExtractionStatus `json:"status"`
	Extraction                  []ExtractedField `json:"extraction"`
	CreatedAt                   *webhook.Time    `json:"createdAt"`
	UpdatedAt                   *webhook.Time    `json:"updatedAt"`
	// Mappings is deprecated by Siro; use Extraction[].Mappings.
	Mappings []CRMMapping `json:"mappings"`
}

// GetRecordingDetails returns a recording through the user API, with the
// summary and extractions in one round trip when asked.
func (c *Client) GetRecordingDetails(ctx context.Context, id string, show *RecordingDetailsShow) (*RecordingDetails, error) {
	return getData[*RecordingDetails](ctx, c.user, "Recordings.Details", http.MethodGet, "/v1/core/recordings/{id}", []string{id}, show, nil)
}

// Utterance is one piece of a transcript.
type Utterance struct {
	Utterance         string   `json:"utterance"`
	StartTimeInMillis float64  `json:"startTimeInMillis"`
	EndTimeInMillis   float64  `json:"endTimeInMillis"`
	SpeakerTag        string   `json:"speakerTag"`
	Redacted          bool     `json:"redacted"`
	Confidence        *float64 `json:"confidence,omitempty"`
}

// Transcript is a page of utterances with the speaker names.
type Transcript struct {
	Utterances    []Utterance       `json:"utterances"`
	IsLowDataMode bool              `json:"isLowDataMode"`
	SpeakerMap    map[string]string `json:"speakerMap"`
	// NextPage is the next 1-based page number, 0 when this is the last.
	NextPage int `json:"-"`
}

// Speaker returns the speaker name of u, or its tag.
func (t *Transcript) Speaker(u Utterance) string {
	if n, ok := t.SpeakerMap[u.SpeakerTag]; ok && n != "" {
		return n
	}
	return u.SpeakerTag
}

// UtterancesParams pages GetUtterances; nil means the whole transcript.
type UtterancesParams struct {
	// Page is the 1-based page (0 means the first); Transcript.NextPage
	// gives the next one.
	Page int
	// PageSize is the number of utterances per page; 0 means Siro's
	// default (everything).
	PageSize int
}

// GetUtterances returns a recording's transcript (user API). An empty
// Utterances means "not processed yet".
func (c *Client) GetUtterances(ctx context.Context, recordingID string, p *UtterancesParams) (*Transcript, error) {
	var page, pageSize int
	if p != nil {
		page, pageSize = p.Page, p.PageSize
	}
	if page < 0 || pageSize < 0 {
		return nil, invalid("Recordings.Utterances", "page and pageSize must not be negative")
	}
	q := struct {
		Cursor   int `url:"cursor,omitempty"`
		PageSize int `url:"pageSize,omitempty"`
	}{page, pageSize}
	var env struct {
		Data     Transcript `json:"data"`
		Cursor   Cursor     `json:"cursor"`
		PageSize *int       `json:"pageSize"`
	}
	if err := do(ctx, c.user, "Recordings.Utterances", http.MethodGet, "/v1/core/recordings/{id}/utterances", []string{recordingID}, q, nil, &env); err != nil {
		return nil, err
	}
	if env.Cursor != "" {
		_, _ = fmt.Sscanf(string(env.Cursor), "%d", &env.Data.NextPage)
	}
	return &env.Data, nil
}

// GetEntityExtractions returns a recording's entity extractions (user API).
func (c *Client) GetEntityExtractions(ctx context.Context, recordingID string) ([]EntityExtraction, error) {
	return getData[[]EntityExtraction](ctx, c.user, "Entities.Extractions", http.MethodGet, "/v1/core/entities/extractions/{recordingId}", []string{recordingID}, nil, nil)
}

// DataType is the kind of CRM object a recording is linked to.
type DataType string

// Data types.
const (
	DataAccount     DataType = "ACCOUNT"
	DataLead        DataType = "LEAD"
	DataOpportunity DataType = "OPPORTUNITY"
	DataEngagement  DataType = "ENGAGEMENT"
	DataContact     DataType = "CONTACT"
)

// LinkTarget identifies the CRM object: either ID (Siro's id), or
// ExternalID with IntegrationConnectionID. Trigger is optional.
type LinkTarget struct {
	ID                      string      `json:"id,omitempty"`
	ExternalID              string      `json:"externalId,omitempty"`
	IntegrationConnectionID string      `json:"integrationConnectionId,omitempty"`
	DataType                DataType    `json:"dataType"`
	Trigger                 LinkTrigger `json:"trigger,omitempty"`
}

func (t *LinkTarget) validate() error {
	switch {
	case t == nil:
		return fmt.Errorf("link target is nil")
	case t.DataType == "":
		return fmt.Errorf("dataType is required")
	case t.ID != "" && t.ExternalID != "":
		return fmt.Errorf("send id or externalId, not both")
	case t.ID == "" && t.ExternalID == "":
		return fmt.Errorf("send id or externalId")
	case t.ExternalID != "" && t.IntegrationConnectionID == "":
		return fmt.Errorf("externalId needs integrationConnectionId")
	}
	if err := checkEnum("dataType", t.DataType, dataTypes); err != nil {
		return err
	}
	return checkEnum("trigger", t.Trigger, linkTriggers)
}

// LinkedObject is the object a recording was linked to.
type LinkedObject struct {
	ID             string       `json:"id"`
	ExternalID     string       `json:"externalId"`
	DataType       DataType     `json:"dataType"`
	Name           string       `json:"name"`
	LastActivityAt webhook.Time `json:"lastActivityAt"`
}

// LinkRecording creates or replaces a recording's CRM link (user API, PUT).
// Siro may answer 200 with an error inside; that is returned as *Error.
func (c *Client) LinkRecording(ctx context.Context, recordingID string, t *LinkTarget) (*LinkedObject, error) {
	return linkCall[*LinkedObject](ctx, c, "Recordings.Link", http.MethodPut, recordingID, t)
}

// UnlinkRecording removes a recording's CRM link (user API, DELETE with a
// body). Siro's {"data": false} is an error matching ErrNotDeleted.
func (c *Client) UnlinkRecording(ctx context.Context, recordingID string, t *LinkTarget) error {
	ok, err := linkCall[bool](ctx, c, "Recordings.Unlink", http.MethodDelete, recordingID, t)
	return deleted("Recordings.Unlink", ok, err)
}

// linkCall sends a CRM-link call and decodes {data: T}, turning an error
// Siro reports inside a 200 into *Error.
func linkCall[T any](ctx context.Context, c *Client, op, method, recordingID string, t *LinkTarget) (T, error) {
	const route = "/v1/core/recordings/{id}/link"
	var zero T
	if err := t.validate(); err != nil {
		return zero, invalid(op, err.Error())
	}
	var raw json.RawMessage
	if err := do(ctx, c.user, op, method, route, []string{recordingID}, nil, t, &raw); err != nil {
		return zero, err
	}
	if err := errorIn200(op, method, route, raw); err != nil {
		return zero, err
	}
	var env dataEnvelope[T]
	if err := json.Unmarshal(raw, &env); err != nil {
		return zero, &DecodeError{Provider: "siro", Operation: op, Method: method, Route: route, StatusCode: http.StatusOK, Err: err}
	}
	if isNilResult(env.Data) {
		return zero, emptyResult(op, method, route)
	}
	return env.Data, nil
}
