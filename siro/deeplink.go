package siro

import (
	"fmt"
	"net/url"
	"strings"
)

// RecordAction is what a record deep link asks the Siro app to do.
type RecordAction string

// Record actions.
const (
	// RecordStart starts a recording, or continues a paused or active one.
	RecordStart RecordAction = "start"
	// RecordStop ends the recording fully, skipping the debrief screens.
	RecordStop RecordAction = "stop"
	// RecordRestart stops, then starts a new recording.
	RecordRestart RecordAction = "restart"
)

// DeepLinkBase is the documented record link.
const DeepLinkBase = "https://app.siro.ai/record"

// RecordLink builds https://app.siro.ai/record links.
type RecordLink struct {
	Action RecordAction
	// Title names the recording (only used with RecordStart).
	Title string
	// ConversationType is a conversation type UUID from the rep's org, not
	// its display name.
	ConversationType string
	// RedirectURL is where the app returns afterwards.
	RedirectURL string
}

// escape URL-encodes a value with %20 for spaces, which every app decodes.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// URL returns the link; every value is URL-encoded.
func (l RecordLink) URL() (string, error) {
	switch l.Action {
	case RecordStart, RecordStop, RecordRestart:
	default:
		return "", fmt.Errorf("%w: action %q is not start, stop or restart", ErrInvalidRequest, l.Action)
	}
	if l.Title != "" && l.Action != RecordStart {
		return "", fmt.Errorf("%w: title is only used with action start", ErrInvalidRequest)
	}
	if l.RedirectURL != "" {
		u, err := url.Parse(l.RedirectURL)
		if err != nil || u.Scheme == "" {
			return "", fmt.Errorf("%w: redirectUrl %q is not an absolute URL", ErrInvalidRequest, l.RedirectURL)
		}
	}
	var b strings.Builder
	b.WriteString(DeepLinkBase + "?action=" + string(l.Action))
	for _, kv := range [][2]string{{"title", l.Title}, {"conversationType", l.ConversationType}, {"redirectUrl", l.RedirectURL}} {
		if kv[1] != "" {
			b.WriteString("&" + kv[0] + "=" + escape(kv[1]))
		}
	}
	return b.String(), nil
}

// LegacyRecordURL builds the original quickstart's
// siro://record?appointmentId=&title=&opportunityId= link. appointmentId
// is the engagement's CRM externalId; empty values are left out.
func LegacyRecordURL(appointmentID, title, opportunityID string) (string, error) {
	if appointmentID == "" {
		return "", fmt.Errorf("%w: appointmentId is required", ErrInvalidRequest)
	}
	var b strings.Builder
	b.WriteString("siro://record?appointmentId=" + escape(appointmentID))
	if title != "" {
		b.WriteString("&title=" + escape(title))
	}
	if opportunityID != "" {
		b.WriteString("&opportunityId=" + escape(opportunityID))
	}
	return b.String(), nil
}
