package sirotest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/callcrm/callcrm-go/siro"
)

// The fake's answers, shaped as Siro's OpenAPI documents declare them:
// required fields always present, optional ones omitted rather than null
// unless the document says nullable, arrays never null, enum members only.
// Stored state is converted to these at answer time; the SDK's own structs
// are never re-marshalled.

// engagementAnswer is the document's engagement object.
type engagementAnswer struct {
	ID                 string           `json:"id"`
	ExternalID         string           `json:"externalId"`
	EngagementType     string           `json:"engagementType"`
	Direction          siro.Direction   `json:"direction,omitempty"`
	Subject            string           `json:"subject,omitempty"`
	Content            string           `json:"content,omitempty"`
	StartTime          string           `json:"startTime,omitempty"`
	StartTimeLocalized string           `json:"startTimeLocalized,omitempty"`
	EndTime            string           `json:"endTime,omitempty"`
	CreatedAt          string           `json:"createdAt"`
	UpdatedAt          string           `json:"updatedAt"`
	RecordingID        string           `json:"recordingId,omitempty"`
	OpportunityID      string           `json:"opportunityId,omitempty"`
	AccountID          string           `json:"accountId,omitempty"`
	OrganizationID     string           `json:"organizationId"`
	Account            *accountAnswer   `json:"account"`
	EngagementUsers    []map[string]any `json:"engagementUsers"`
}

// engagementAnswer renders a stored engagement, with its account and its
// engagement users. Call with s.mu held.
func (s *Server) engagementAnswer(e *siro.Engagement) engagementAnswer {
	out := engagementAnswer{ID: e.ID, ExternalID: e.ExternalID, EngagementType: e.EngagementType, Direction: e.Direction,
		Subject: e.Subject, Content: e.Content, StartTime: raw(e.StartTime), StartTimeLocalized: e.StartTimeLocalized, EndTime: raw(e.EndTime),
		CreatedAt: raw(e.CreatedAt), UpdatedAt: raw(e.UpdatedAt), RecordingID: e.RecordingID, OpportunityID: e.OpportunityID,
		AccountID: e.AccountID, OrganizationID: e.OrganizationID, EngagementUsers: []map[string]any{}}
	out.Account = s.accountAnswerByID(e.AccountID)
	out.EngagementUsers = append(out.EngagementUsers, s.engagementUsers.list(map[string]string{"engagementId": e.ID})...)
	return out
}

// opportunityAnswer is the document's opportunity object.
type opportunityAnswer struct {
	ID               string           `json:"id"`
	ExternalID       string           `json:"externalId"`
	Name             *string          `json:"name,omitempty"`
	Amount           *float64         `json:"amount,omitempty"`
	ClosedAt         string           `json:"closedAt,omitempty"`
	Disposition      siro.Disposition `json:"disposition,omitempty"`
	CreatedAt        string           `json:"createdAt"`
	UpdatedAt        string           `json:"updatedAt"`
	RecordingID      string           `json:"recordingId,omitempty"`
	AccountID        string           `json:"accountId,omitempty"`
	OrganizationID   string           `json:"organizationId"`
	Account          *accountAnswer   `json:"account"`
	OpportunityUsers []map[string]any `json:"opportunityUsers"`
}

// opportunityAnswer renders a stored opportunity. Call with s.mu held.
func (s *Server) opportunityAnswer(o *siro.Opportunity) opportunityAnswer {
	out := opportunityAnswer{ID: o.ID, ExternalID: o.ExternalID, Name: o.Name, Amount: o.Amount, ClosedAt: raw(o.ClosedAt),
		Disposition: o.Disposition, CreatedAt: raw(o.CreatedAt), UpdatedAt: raw(o.UpdatedAt), RecordingID: o.RecordingID,
		AccountID: o.AccountID, OrganizationID: o.OrganizationID, OpportunityUsers: []map[string]any{}}
	out.Account = s.accountAnswerByID(o.AccountID)
	out.OpportunityUsers = append(out.OpportunityUsers, s.opportunityUsers.list(map[string]string{"opportunityId": o.ID})...)
	return out
}

// accountAnswerByID renders the stored account with Siro id id, nil when
// there is none. Call with s.mu held.
func (s *Server) accountAnswerByID(id string) *accountAnswer {
	if a := s.accountByID(id); a != nil {
		acc := accountOf(a)
		return &acc
	}
	return nil
}

// accountAnswer is the document's account object.
type accountAnswer struct {
	ID             string            `json:"id"`
	ExternalID     string            `json:"externalId"`
	Latitude       *float64          `json:"latitude,omitempty"`
	Longitude      *float64          `json:"longitude,omitempty"`
	Addresses      []json.RawMessage `json:"addresses"`
	PhoneNumbers   []string          `json:"phoneNumbers"`
	EmailAddresses []string          `json:"emailAddresses"`
	Name           string            `json:"name,omitempty"`
	CreatedAt      string            `json:"createdAt"`
	UpdatedAt      string            `json:"updatedAt"`
}

func accountOf(a *siro.Account) accountAnswer {
	return accountAnswer{ID: a.ID, ExternalID: a.ExternalID, Latitude: a.Latitude, Longitude: a.Longitude,
		Addresses: nonNil(a.Addresses), PhoneNumbers: nonNil(a.PhoneNumbers), EmailAddresses: nonNil(a.EmailAddresses),
		Name: a.Name, CreatedAt: raw(a.CreatedAt), UpdatedAt: raw(a.UpdatedAt)}
}

// recordingAnswer is the org API's recording object. Latitude and
// longitude are required numbers; the blocks asked for with show* flags
// are present only when asked.
type recordingAnswer struct {
	ID                     string                `json:"id"`
	OrganizationID         string                `json:"organizationId"`
	UserID                 string                `json:"userId"`
	Title                  string                `json:"title"`
	DurationInMilliseconds float64               `json:"durationInMilliseconds"`
	Latitude               float64               `json:"latitude"`
	Longitude              float64               `json:"longitude"`
	Result                 siro.Disposition      `json:"result"`
	CreatedAt              string                `json:"createdAt"`
	UpdatedAt              string                `json:"updatedAt"`
	RootDataPurgedAt       *string               `json:"rootDataPurgedAt"`
	Deleted                bool                  `json:"deleted"`
	DeletedAt              *string               `json:"deletedAt"`
	Links                  siro.RecordingLinks   `json:"links"`
	IsProcessingDone       bool                  `json:"isProcessingDone"`
	IsEntityExtractionDone bool                  `json:"isEntityExtractionDone"`
	IsSummaryDone          bool                  `json:"isSummaryDone"`
	CRM                    *siro.CRMLinks        `json:"crm,omitempty"`
	Summary                []siro.SummarySection `json:"summary,omitempty"`
	EntityExtractions      []extractedField      `json:"entityExtractions,omitempty"`
	EvaluationScore        *float64              `json:"evaluationScore,omitempty"`
	Followups              []followupSummary     `json:"followups,omitempty"`
}

// followupSummary is a follow-up as recording lists show it.
type followupSummary struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// extractedField is one extracted value; mappings is never null.
type extractedField struct {
	Name     string            `json:"name"`
	Value    json.RawMessage   `json:"value,omitempty"`
	Mappings []siro.CRMMapping `json:"mappings"`
}

func extractedFields(in []siro.ExtractedField) []extractedField {
	out := make([]extractedField, len(in))
	for i, f := range in {
		out[i] = extractedField{Name: f.Name, Value: f.Value, Mappings: nonNil(f.Mappings)}
	}
	return out
}

// recordingView renders a recording for the org API with the show* flags
// of query q.
func (s *Server) recordingView(rec *recording, q map[string][]string) recordingAnswer {
	flag := func(k string) bool { v := q[k]; return len(v) > 0 && v[0] == "true" }
	r := rec.rec
	out := recordingAnswer{ID: r.ID, OrganizationID: r.OrganizationID, UserID: r.UserID, Title: r.Title,
		DurationInMilliseconds: r.DurationInMilliseconds, Latitude: rec.latitude, Longitude: rec.longitude, Result: r.Result,
		CreatedAt: raw(r.CreatedAt), UpdatedAt: raw(r.UpdatedAt), Links: r.Links,
		IsProcessingDone: rec.processed, IsEntityExtractionDone: rec.processed, IsSummaryDone: rec.processed}
	if flag("showCrmLinks") && r.CRM != nil {
		crm := *r.CRM
		out.CRM = &crm
	}
	// Until the recording is processed its summary and extractions are
	// empty (in-progress extractions are omitted, as Siro documents).
	if flag("showSummary") {
		out.Summary = nonNil(rec.doneSummary())
	}
	if flag("showEntityExtractions") {
		out.EntityExtractions = extractedFields(rec.doneExtractions())
	}
	if flag("showEvaluationScore") {
		score := rec.evaluationScore
		out.EvaluationScore = &score
	}
	if flag("showFollowups") {
		out.Followups = []followupSummary{}
	}
	return out
}

// detailsAnswer is the user API's recording object.
type detailsAnswer struct {
	ID                     string                     `json:"id"`
	DateCreated            string                     `json:"dateCreated"`
	TranscriptionStatus    siro.TranscriptionStatus   `json:"transcriptionStatus"`
	ProcessingStatus       siro.ProcessingStatus      `json:"processingStatus"`
	ProcessingStage        siro.ProcessingStage       `json:"processingStage"`
	OrganizationID         string                     `json:"organizationId"`
	TeamID                 string                     `json:"teamId,omitempty"`
	UserID                 string                     `json:"userId"`
	Title                  string                     `json:"title"`
	DurationInMilliseconds float64                    `json:"durationInMilliseconds"`
	Deleted                bool                       `json:"deleted"`
	ConversationType       string                     `json:"conversationType,omitempty"`
	TranscriptionLanguage  siro.TranscriptionLanguage `json:"transcriptionLanguage"`
	CRMOpportunities       []siro.CRMOpportunity      `json:"crmOpportunities,omitempty"`
	EvaluationScore        *float64                   `json:"evaluationScore,omitempty"`
	Followups              []json.RawMessage          `json:"followups,omitempty"`
	Summary                string                     `json:"summary,omitempty"`
	EntityExtractions      []extractionAnswer         `json:"entityExtractions,omitempty"`
}

// extractionAnswer is one entity definition's output: ids are UUIDs.
type extractionAnswer struct {
	ID                          string                `json:"id"`
	RecordingID                 string                `json:"recordingId"`
	SiroEntityDefinitionID      string                `json:"siroEntityDefinitionId"`
	SiroEntityDefinitionName    string                `json:"siroEntityDefinitionName"`
	SiroEntityDefinitionDeleted bool                  `json:"siroEntityDefinitionDeleted"`
	Status                      siro.ExtractionStatus `json:"status"`
	Extraction                  []extractedField      `json:"extraction"`
	CreatedAt                   string                `json:"createdAt"`
	UpdatedAt                   string                `json:"updatedAt"`
	Mappings                    []siro.CRMMapping     `json:"mappings"`
}

// linkedAnswer is the object a recording was linked to: Siro's id, the
// CRM's externalId, the type, its name and its last activity.
type linkedAnswer struct {
	ID             string        `json:"id"`
	ExternalID     string        `json:"externalId"`
	DataType       siro.DataType `json:"dataType"`
	Name           string        `json:"name"`
	LastActivityAt string        `json:"lastActivityAt"`
}

// utteranceAnswer is one piece of a transcript; confidence is omitted
// when unknown (the document does not allow null).
type utteranceAnswer struct {
	Utterance         string   `json:"utterance"`
	StartTimeInMillis float64  `json:"startTimeInMillis"`
	EndTimeInMillis   float64  `json:"endTimeInMillis"`
	SpeakerTag        string   `json:"speakerTag"`
	Redacted          bool     `json:"redacted"`
	Confidence        *float64 `json:"confidence,omitempty"`
}

func utteranceAnswers(in []siro.Utterance) []utteranceAnswer {
	out := make([]utteranceAnswer, len(in))
	for i, u := range in {
		out[i] = utteranceAnswer{Utterance: u.Utterance, StartTimeInMillis: u.StartTimeInMillis, EndTimeInMillis: u.EndTimeInMillis,
			SpeakerTag: u.SpeakerTag, Redacted: u.Redacted, Confidence: u.Confidence}
	}
	return out
}

// mobileEventAnswer is the document's mobile event.
type mobileEventAnswer struct {
	ID                     string               `json:"id"`
	RecordingID            string               `json:"recordingId,omitempty"`
	ExternalOpportunityIDs []string             `json:"externalOpportunityIds"`
	UserID                 string               `json:"userId"`
	OrganizationID         string               `json:"organizationId"`
	EventCode              siro.MobileEventCode `json:"eventCode"`
	Event                  json.RawMessage      `json:"event"`
	CreatedAt              string               `json:"createdAt"`
}

func mobileEventOf(e siro.MobileEvent) mobileEventAnswer {
	return mobileEventAnswer{ID: e.ID, RecordingID: e.RecordingID, ExternalOpportunityIDs: nonNil(e.ExternalOpportunityIDs),
		UserID: e.UserID, OrganizationID: e.OrganizationID, EventCode: e.EventCode, Event: e.Event, CreatedAt: raw(e.CreatedAt)}
}

// defaultMobileEvent is a plausible event body for each code, used when a
// test seeds an event without one.
var defaultMobileEvent = map[siro.MobileEventCode]string{
	siro.MobileRecorderStateChange:      `{"value":"start","trigger":"buttonPress"}`,
	siro.MobileNetworkStatusChange:      `{"value":"online"}`,
	siro.MobileAppStateChange:           `{"value":"active"}`,
	siro.MobileConsentStatusChanged:     `{"status":"granted"}`,
	siro.MobileRecordingMetadataChanged: `{"title":"Recording"}`,
	siro.MobileDeeplinkReceived:         `{"fullUrl":"siro://record"}`,
	siro.MobileDeeplinkConsumed:         `{"fullUrl":"siro://record"}`,
	siro.MobileUserAuthStatusChanged:    `{"status":"authenticated"}`,
}

// uuidFor derives a stable, well-formed (version 4 layout) UUID from a
// name, so ids the document declares as uuid are UUIDs and tests stay
// deterministic.
func uuidFor(name string) string {
	h := sha256.Sum256([]byte("sirotest:" + name))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
