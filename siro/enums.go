package siro

import (
	"fmt"
	"slices"
	"strings"
)

// This file holds the enumerations Siro's OpenAPI documents declare on
// fields the SDK exposes, and the checks run on enum inputs before a
// request. Values are exactly as the documents spell them.

// Activity types Siro's document adds to the six of its guide.
const (
	// ActivitySiroEvent is an event created in Siro itself.
	ActivitySiroEvent ActivityType = "SIRO_EVENT"
	// ActivitySiroBotRecording is a recording made by Siro's meeting bot.
	ActivitySiroBotRecording ActivityType = "SIRO_BOT_RECORDING"
)

// activityTypes lists every ActivityType Siro accepts.
var activityTypes = []ActivityType{ActivityMeeting, ActivityCall, ActivityAppointment, ActivityEmail, ActivityText,
	ActivityEvent, ActivitySiroEvent, ActivitySiroBotRecording}

// Integration platforms the connections list filter accepts besides the
// seven a connection can be created for.
const (
	PlatformSalesforce         IntegrationPlatform = "SALESFORCE"
	PlatformSolutionView       IntegrationPlatform = "SOLUTION_VIEW"
	PlatformCalendarOnly       IntegrationPlatform = "CALENDAR_ONLY"
	PlatformAuthenticom        IntegrationPlatform = "AUTHENTICOM"
	PlatformFortellis          IntegrationPlatform = "FORTELLIS"
	PlatformYardiSeniorHousing IntegrationPlatform = "YARDI_SENIOR_HOUSING"
	PlatformFunnel             IntegrationPlatform = "FUNNEL"
	PlatformKnock              IntegrationPlatform = "KNOCK"
)

// creatablePlatforms are the platforms CreateConnection accepts.
var creatablePlatforms = []IntegrationPlatform{PlatformMerge, PlatformSiroCustomInput, PlatformServiceTitan,
	PlatformCompanyCam, PlatformIngage, PlatformLeadPerfection, PlatformSpotio}

// listablePlatforms are the platforms the ListConnections filter accepts.
var listablePlatforms = append(slices.Clone(creatablePlatforms), PlatformSalesforce, PlatformSolutionView,
	PlatformCalendarOnly, PlatformAuthenticom, PlatformFortellis, PlatformYardiSeniorHousing, PlatformFunnel, PlatformKnock)

// LinkTrigger says what caused a recording's CRM link (LinkTarget.Trigger).
type LinkTrigger string

// Link triggers.
const (
	TriggerFuzzyMatchRecordingsForEngagement   LinkTrigger = "FUZZY_MATCH_RECORDINGS_FOR_ENGAGEMENT"
	TriggerFuzzyMatchEngagementsForRecording   LinkTrigger = "FUZZY_MATCH_ENGAGEMENTS_FOR_RECORDING"
	TriggerFuzzyMatchRecordingsForOpportunity  LinkTrigger = "FUZZY_MATCH_RECORDINGS_FOR_OPPORTUNITY"
	TriggerFuzzyMatchOpportunitiesForRecording LinkTrigger = "FUZZY_MATCH_OPPORTUNITIES_FOR_RECORDING"
	TriggerOpportunityDeeplinkAdmin            LinkTrigger = "OPPORTUNITY_DEEPLINK_ADMIN"
	TriggerOpportunityDeeplink                 LinkTrigger = "OPPORTUNITY_DEEPLINK"
	TriggerCRMDeeplink                         LinkTrigger = "CRM_DEEPLINK"
	TriggerAudioUploadDeeplink                 LinkTrigger = "AUDIO_UPLOAD_DEEPLINK"
	TriggerContactMatchAudioUpload             LinkTrigger = "CONTACT_MATCH_AUDIO_UPLOAD"
	TriggerUserLinkWeb                         LinkTrigger = "USER_LINK_WEB"
	TriggerUserLinkMobile                      LinkTrigger = "USER_LINK_MOBILE"
	TriggerUserLinkPostRecording               LinkTrigger = "USER_LINK_POST_RECORDING"
	TriggerUserUnlink                          LinkTrigger = "USER_UNLINK"
	TriggerUserAppointmentList                 LinkTrigger = "USER_APPOINTMENT_LIST"
	TriggerCalendarMatch                       LinkTrigger = "CALENDAR_MATCH"
	TriggerExternalAPILink                     LinkTrigger = "EXTERNAL_API_LINK"
	TriggerRecordingHardDeleted                LinkTrigger = "RECORDING_HARD_DELETED"
)

var linkTriggers = []LinkTrigger{TriggerFuzzyMatchRecordingsForEngagement, TriggerFuzzyMatchEngagementsForRecording,
	TriggerFuzzyMatchRecordingsForOpportunity, TriggerFuzzyMatchOpportunitiesForRecording, TriggerOpportunityDeeplinkAdmin,
	TriggerOpportunityDeeplink, TriggerCRMDeeplink, TriggerAudioUploadDeeplink, TriggerContactMatchAudioUpload,
	TriggerUserLinkWeb, TriggerUserLinkMobile, TriggerUserLinkPostRecording, TriggerUserUnlink, TriggerUserAppointmentList,
	TriggerCalendarMatch, TriggerExternalAPILink, TriggerRecordingHardDeleted}

var dataTypes = []DataType{DataAccount, DataLead, DataOpportunity, DataEngagement, DataContact}

// TranscriptionStatus is a recording's transcription state
// (RecordingDetails.TranscriptionStatus).
type TranscriptionStatus string

// Transcription states.
const (
	TranscriptionRecording                      TranscriptionStatus = "RECORDING"
	TranscriptionUploading                      TranscriptionStatus = "UPLOADING"
	TranscriptionUploaded                       TranscriptionStatus = "UPLOADED"
	TranscriptionTranscribing                   TranscriptionStatus = "TRANSCRIBING"
	TranscriptionAwaitingRedaction              TranscriptionStatus = "AWAITING_REDACTION"
	TranscriptionRedacting                      TranscriptionStatus = "REDACTING"
	TranscriptionComplete                       TranscriptionStatus = "COMPLETE"
	TranscriptionSecondaryTranscriptionComplete TranscriptionStatus = "SECONDARY_TRANSCRIPTION_COMPLETE"
	TranscriptionError                          TranscriptionStatus = "ERROR"
	TranscriptionUnrecoverableError             TranscriptionStatus = "UNRECOVERABLE_ERROR"
	TranscriptionRemoved                        TranscriptionStatus = "REMOVED"
	TranscriptionRawSplit                       TranscriptionStatus = "RAW_SPLIT"
)

// TranscriptionLanguage is a recording's transcription language.
type TranscriptionLanguage string

// Transcription languages.
const (
	LanguageEnglish TranscriptionLanguage = "English"
	LanguageSpanish TranscriptionLanguage = "Spanish"
	LanguageFrench  TranscriptionLanguage = "French"
)

// ProcessingStatus is a recording's processing state.
type ProcessingStatus string

// Processing states.
const (
	ProcessingInProgress ProcessingStatus = "in-progress"
	ProcessingComplete   ProcessingStatus = "complete"
	ProcessingError      ProcessingStatus = "error"
)

// ProcessingStage is a recording's processing stage.
type ProcessingStage string

// Processing stages.
const (
	StageRecording  ProcessingStage = "recording"
	StageUploading  ProcessingStage = "uploading"
	StageProcessing ProcessingStage = "processing"
	StageDone       ProcessingStage = "done"
)

// ExtractionStatus is an entity extraction's state.
type ExtractionStatus string

// Extraction states.
const (
	ExtractionInProgress ExtractionStatus = "IN_PROGRESS"
	ExtractionSuccess    ExtractionStatus = "SUCCESS"
	ExtractionFail       ExtractionStatus = "FAIL"
	ExtractionSynced     ExtractionStatus = "SYNCED"
)

// ModelSyncStatus is one model's sync state on a connection.
type ModelSyncStatus string

// Model sync states.
const (
	ModelSyncing   ModelSyncStatus = "SYNCING"
	ModelUpToDate  ModelSyncStatus = "UP_TO_DATE"
	ModelSyncError ModelSyncStatus = "ERROR"
)

var mobileEventCodes = []MobileEventCode{MobileRecorderStateChange, MobileNetworkStatusChange, MobileAppStateChange,
	MobileConsentStatusChanged, MobileRecordingMetadataChanged, MobileDeeplinkReceived, MobileDeeplinkConsumed,
	MobileUserAuthStatusChanged}

// checkEnum reports an error naming field when v is set and not one of
// allowed.
func checkEnum[T ~string](field string, v T, allowed []T) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return fmt.Errorf("%s %q is not one of %s", field, v, strings.Join(names, ", "))
}

func listPlatform(p *ListConnectionsParams) IntegrationPlatform {
	if p == nil {
		return ""
	}
	return p.IntegrationPlatform
}
