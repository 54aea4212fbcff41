package sirotest

import (
	"net/http"
	"strings"
)

// textAnswers are the error answers Siro's OpenAPI documents declare as
// text/plain, by method and path template (TestTextAnswersMatchDocuments
// checks this table against the documents).
var textAnswers = []struct {
	org          bool // the org host's document (else the user host's)
	method, path string
	status       int
}{
	{true, "POST", "/v1/core/integrations/connections", 400},
	{true, "POST", "/v1/core/integrations/connections", 409},
	{true, "GET", "/v1/core/integrations/connections/{id}", 404},
	{true, "PATCH", "/v1/core/integrations/connections/{id}", 404},
	{true, "DELETE", "/v1/core/integrations/connections/{id}", 404},
	{true, "GET", "/v1/core/organizations/{orgId}/teams/{teamId}", 404},
	{true, "PATCH", "/v1/core/organizations/{orgId}/teams/{teamId}", 404},
	{true, "DELETE", "/v1/core/organizations/{orgId}/teams/{teamId}", 404},
	{false, "GET", "/v1/core/recordings", 400},
	{false, "GET", "/v1/core/recordings", 401},
	{false, "GET", "/v1/core/recordings", 403},
	{false, "GET", "/v1/core/recordings", 500},
	{false, "POST", "/v1/core/recordings/{id}/chats", 429},
}

// textAnswer reports whether Siro documents the answer to method path with
// status on the org (or user) host as text/plain.
func textAnswer(org bool, method, path string, status int) bool {
	for _, a := range textAnswers {
		if a.org == org && a.method == method && a.status == status && matchTemplate(a.path, path) {
			return true
		}
	}
	return false
}

// matchTemplate matches a path against an OpenAPI path template.
func matchTemplate(template, path string) bool {
	t, p := strings.Split(strings.Trim(template, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(t) != len(p) {
		return false
	}
	for i := range t {
		if strings.HasPrefix(t[i], "{") {
			if p[i] == "" {
				return false
			}
			continue
		}
		if t[i] != p[i] {
			return false
		}
	}
	return true
}

// documented lists every operation Siro's OpenAPI documents declare, by
// host, method and path template (TestDocumentedMatchesDocuments checks it
// against the documents). A request the fake does not serve but Siro
// documents is answered 501, naming the gap in the fake, instead of a 404
// that reads like Siro's own answer.
var documented = []struct {
	org          bool
	method, path string
}{
	{true, "GET", "/v1/core/auth/caller-identity"},
	{true, "GET", "/v1/core/auth/tokens"},
	{true, "POST", "/v1/core/auth/tokens"},
	{true, "GET", "/v1/core/auth/tokens/{id}"},
	{true, "DELETE", "/v1/core/auth/tokens/{id}"},
	{true, "GET", "/v1/core/integrations/connections"},
	{true, "POST", "/v1/core/integrations/connections"},
	{true, "GET", "/v1/core/integrations/connections/{id}"},
	{true, "PATCH", "/v1/core/integrations/connections/{id}"},
	{true, "DELETE", "/v1/core/integrations/connections/{id}"},
	{true, "PUT", "/v1/core/integrations/salesforce"},
	{true, "GET", "/v1/core/mobile-events"},
	{true, "GET", "/v1/core/mobile-events/{id}"},
	{true, "GET", "/v1/core/oauth/apps"},
	{true, "POST", "/v1/core/oauth/apps"},
	{true, "GET", "/v1/core/oauth/apps/{clientId}"},
	{true, "DELETE", "/v1/core/oauth/apps/{clientId}"},
	{true, "GET", "/v1/core/oauth/apps/{clientId}/access-token"},
	{true, "POST", "/v1/core/oauth/apps/{clientId}/access-token"},
	{true, "GET", "/v1/core/oauth/apps/{clientId}/access-token/{tokenId}"},
	{true, "DELETE", "/v1/core/oauth/apps/{clientId}/access-token/{tokenId}"},
	{true, "GET", "/v1/core/organizations"},
	{true, "POST", "/v1/core/organizations"},
	{true, "GET", "/v1/core/organizations/{id}"},
	{true, "PATCH", "/v1/core/organizations/{id}"},
	{true, "GET", "/v1/core/organizations/{orgId}/teams"},
	{true, "POST", "/v1/core/organizations/{orgId}/teams"},
	{true, "GET", "/v1/core/organizations/{orgId}/teams/{teamId}"},
	{true, "PATCH", "/v1/core/organizations/{orgId}/teams/{teamId}"},
	{true, "DELETE", "/v1/core/organizations/{orgId}/teams/{teamId}"},
	{true, "GET", "/v1/core/recordings"},
	{true, "GET", "/v1/core/recordings/{id}"},
	{true, "GET", "/v1/core/recordings/{id}/summaries"},
	{true, "GET", "/v1/core/users"},
	{true, "POST", "/v1/core/users"},
	{true, "GET", "/v1/core/users/{id}"},
	{true, "PUT", "/v1/core/users/{id}"},
	{true, "GET", "/v1/integrations/accounts"},
	{true, "POST", "/v1/integrations/accounts"},
	{true, "GET", "/v1/integrations/accounts/{id}"},
	{true, "PUT", "/v1/integrations/accounts/{id}"},
	{true, "DELETE", "/v1/integrations/accounts/{id}"},
	{true, "PUT", "/v1/integrations/batch/multimedia-events"},
	{true, "PUT", "/v1/integrations/briefs"},
	{true, "GET", "/v1/integrations/engagement-users"},
	{true, "POST", "/v1/integrations/engagement-users"},
	{true, "GET", "/v1/integrations/engagement-users/{id}"},
	{true, "PUT", "/v1/integrations/engagement-users/{id}"},
	{true, "DELETE", "/v1/integrations/engagement-users/{id}"},
	{true, "GET", "/v1/integrations/engagements"},
	{true, "GET", "/v1/integrations/engagements/{id}"},
	{true, "DELETE", "/v1/integrations/engagements/{id}"},
	{true, "PUT", "/v1/integrations/multimedia-events"},
	{true, "GET", "/v1/integrations/opportunities"},
	{true, "GET", "/v1/integrations/opportunities/{id}"},
	{true, "DELETE", "/v1/integrations/opportunities/{id}"},
	{true, "GET", "/v1/integrations/opportunity-users"},
	{true, "POST", "/v1/integrations/opportunity-users"},
	{true, "GET", "/v1/integrations/opportunity-users/{id}"},
	{true, "PUT", "/v1/integrations/opportunity-users/{id}"},
	{true, "DELETE", "/v1/integrations/opportunity-users/{id}"},
	{true, "PUT", "/v1/integrations/sync/batch/engagements"},
	{true, "PUT", "/v1/integrations/sync/batch/opportunities"},
	{true, "PUT", "/v1/integrations/sync/engagements"},
	{true, "POST", "/v1/integrations/sync/engagements/soft-delete-removed"},
	{true, "PUT", "/v1/integrations/sync/opportunities"},
	{true, "GET", "/v1/integrations/users"},
	{true, "GET", "/v1/integrations/users/{id}"},
	{true, "GET", "/v1/integrations/users/{id}/engagements"},
	{false, "GET", "/v1/agents"},
	{false, "GET", "/v1/agents/models"},
	{false, "POST", "/v1/agents/run"},
	{false, "POST", "/v1/billing-graph/accounts"},
	{false, "GET", "/v1/billing-graph/accounts/{id}"},
	{false, "PATCH", "/v1/billing-graph/accounts/{id}"},
	{false, "DELETE", "/v1/billing-graph/accounts/{id}"},
	{false, "PUT", "/v1/billing-graph/accounts/{id}/organizations/{organizationId}"},
	{false, "DELETE", "/v1/billing-graph/accounts/{id}/organizations/{organizationId}"},
	{false, "POST", "/v1/billing-graph/accounts/{id}/reactivate"},
	{false, "PUT", "/v1/billing-graph/accounts/{id}/teams/{siroTeamId}"},
	{false, "DELETE", "/v1/billing-graph/accounts/{id}/teams/{siroTeamId}"},
	{false, "GET", "/v1/billing-graph/me/accounts"},
	{false, "GET", "/v1/billing-graph/me/organization-billing-accounts"},
	{false, "GET", "/v1/billing-graph/me/team-billing-accounts"},
	{false, "GET", "/v1/billing-graph/organizations/{organizationId}/seats"},
	{false, "GET", "/v1/billing-graph/teams/{siroTeamId}/seats"},
	{false, "GET", "/v1/core/bookmark-configs"},
	{false, "GET", "/v1/core/bookmark-configs/{bookmarkConfigId}/labeled-recordings"},
	{false, "GET", "/v1/core/bookmark-groups"},
	{false, "GET", "/v1/core/bookmark-models"},
	{false, "POST", "/v1/core/bookmark-models"},
	{false, "PATCH", "/v1/core/bookmark-models/{modelId}"},
	{false, "GET", "/v1/core/comments"},
	{false, "GET", "/v1/core/companion-call/settings"},
	{false, "PUT", "/v1/core/companion-call/settings"},
	{false, "GET", "/v1/core/conversation-configurations"},
	{false, "POST", "/v1/core/conversation-configurations"},
	{false, "GET", "/v1/core/conversation-configurations/{conversationTypeId}/summary-prompts"},
	{false, "POST", "/v1/core/conversation-configurations/{conversationTypeId}/summary-prompts"},
	{false, "PUT", "/v1/core/conversation-configurations/{conversationTypeId}/summary-prompts"},
	{false, "PATCH", "/v1/core/conversation-configurations/{id}"},
	{false, "GET", "/v1/core/entities/extractions/{recordingId}"},
	{false, "GET", "/v1/core/folders"},
	{false, "POST", "/v1/core/folders"},
	{false, "DELETE", "/v1/core/folders"},
	{false, "PATCH", "/v1/core/folders/{id}"},
	{false, "GET", "/v1/core/folders/{id}/items"},
	{false, "POST", "/v1/core/folders/{id}/items"},
	{false, "DELETE", "/v1/core/folders/{id}/items"},
	{false, "GET", "/v1/core/followups"},
	{false, "PATCH", "/v1/core/followups/{id}"},
	{false, "GET", "/v1/core/halftime/recordings/{recordingId}/transcript"},
	{false, "GET", "/v1/core/manual-labels"},
	{false, "POST", "/v1/core/manual-labels"},
	{false, "DELETE", "/v1/core/manual-labels/{manualLabelId}"},
	{false, "PATCH", "/v1/core/manual-labels/{manualLabelId}/toggle"},
	{false, "GET", "/v1/core/organizations/{id}/users"},
	{false, "GET", "/v1/core/outcomes/outcome-definitions"},
	{false, "GET", "/v1/core/outcomes/outcome-definitions/{conversationConfigId}"},
	{false, "POST", "/v1/core/outcomes/outcome-definitions/{conversationConfigId}"},
	{false, "POST", "/v1/core/outcomes/set-multiple/{conversationConfigId}"},
	{false, "GET", "/v1/core/recordings"},
	{false, "POST", "/v1/core/recordings"},
	{false, "PUT", "/v1/core/recordings"},
	{false, "PATCH", "/v1/core/recordings"},
	{false, "POST", "/v1/core/recordings/search"},
	{false, "POST", "/v1/core/recordings/signed-urls"},
	{false, "POST", "/v1/core/recordings/upload"},
	{false, "GET", "/v1/core/recordings/{id}"},
	{false, "DELETE", "/v1/core/recordings/{id}"},
	{false, "POST", "/v1/core/recordings/{id}/chats"},
	{false, "GET", "/v1/core/recordings/{id}/chats/available"},
	{false, "GET", "/v1/core/recordings/{id}/comments"},
	{false, "POST", "/v1/core/recordings/{id}/comments"},
	{false, "GET", "/v1/core/recordings/{id}/comments/{commentId}"},
	{false, "PATCH", "/v1/core/recordings/{id}/comments/{commentId}"},
	{false, "DELETE", "/v1/core/recordings/{id}/comments/{commentId}"},
	{false, "POST", "/v1/core/recordings/{id}/comments/{commentId}/rating"},
	{false, "GET", "/v1/core/recordings/{id}/deep-link/{tenant}"},
	{false, "PUT", "/v1/core/recordings/{id}/link"},
	{false, "DELETE", "/v1/core/recordings/{id}/link"},
	{false, "PUT", "/v1/core/recordings/{id}/listen"},
	{false, "POST", "/v1/core/recordings/{id}/signedUrl"},
	{false, "GET", "/v1/core/recordings/{id}/summary"},
	{false, "GET", "/v1/core/recordings/{id}/threads"},
	{false, "PATCH", "/v1/core/recordings/{id}/transcription-language"},
	{false, "GET", "/v1/core/recordings/{id}/utterances"},
	{false, "PUT", "/v1/core/recordings/{id}/viewed"},
	{false, "POST", "/v1/core/recordings/{id}/views"},
	{false, "GET", "/v1/core/recordings/{recordingId}/outcomes"},
	{false, "PATCH", "/v1/core/recordings/{recordingId}/outcomes"},
	{false, "PATCH", "/v1/core/recordings/{recording_id}/threads/{thread_id}"},
	{false, "GET", "/v1/core/scorecards/color-configurations"},
	{false, "GET", "/v1/core/scorecards/evaluated-instances/{id}"},
	{false, "GET", "/v1/core/scorecards/evaluated-instances/{id}/populations"},
	{false, "GET", "/v1/core/scorecards/instance-summaries"},
	{false, "GET", "/v1/core/scorecards/instances"},
	{false, "PUT", "/v1/core/scorecards/instances"},
	{false, "GET", "/v1/core/scorecards/instances/{id}"},
	{false, "PATCH", "/v1/core/scorecards/instances/{id}"},
	{false, "PUT", "/v1/core/scorecards/scorecard-metrics"},
	{false, "GET", "/v1/core/scorecards/scorecard-metrics/available"},
	{false, "GET", "/v1/core/scorecards/scorecard-metrics/values"},
	{false, "GET", "/v1/core/scorecards/scorecard-metrics/{id}"},
	{false, "PATCH", "/v1/core/scorecards/scorecard-metrics/{id}"},
	{false, "DELETE", "/v1/core/scorecards/scorecard-metrics/{id}"},
	{false, "GET", "/v1/core/scorecards/standardized-prompts"},
	{false, "GET", "/v1/core/scorecards/teams/{teamId}/weighted-score-history"},
	{false, "GET", "/v1/core/scorecards/users/{userId}/weighted-score-history"},
	{false, "POST", "/v1/core/sdk-logging/siro-logs"},
	{false, "GET", "/v1/core/summary-prompts/industry"},
	{false, "GET", "/v1/core/teams/{teamId}/team-code-link"},
	{false, "GET", "/v1/core/threads"},
	{false, "GET", "/v1/core/threads/unread"},
	{false, "GET", "/v1/docs/swagger.json"},
	{false, "GET", "/v1/folders"},
	{false, "POST", "/v1/folders"},
	{false, "DELETE", "/v1/folders"},
	{false, "GET", "/v1/folders/{id}/items"},
	{false, "POST", "/v1/folders/{id}/items"},
	{false, "DELETE", "/v1/folders/{id}/items"},
	{false, "POST", "/v1/halftime/reports"},
	{false, "POST", "/v1/intercom/hash"},
	{false, "GET", "/v1/invoices/line-items"},
	{false, "GET", "/v1/jobs/siro-noticed"},
	{false, "POST", "/v1/jobs/siro-noticed"},
	{false, "GET", "/v1/jobs/siro-noticed/results"},
	{false, "PATCH", "/v1/jobs/siro-noticed/{id}"},
	{false, "DELETE", "/v1/jobs/siro-noticed/{id}"},
	{false, "GET", "/v1/licenses/remaining"},
	{false, "POST", "/v1/portal/session"},
	{false, "GET", "/v1/sessions"},
	{false, "GET", "/v1/sessions/{sessionId}"},
	{false, "PATCH", "/v1/sessions/{sessionId}"},
	{false, "DELETE", "/v1/sessions/{sessionId}"},
	{false, "PATCH", "/v1/sessions/{sessionId}/invocations/{invocationId}/feedback"},
	{false, "PATCH", "/v1/sessions/{sessionId}/messages/{messageId}/feedback"},
	{false, "PUT", "/v1/subscription"},
	{false, "POST", "/v1/suggested-questions"},
	{false, "GET", "/v2/core/bookmark-configs"},
	{false, "PATCH", "/v2/core/bookmark-configs/{id}"},
	{false, "GET", "/v2/core/bookmark-groups"},
	{false, "POST", "/v2/core/bookmark-groups"},
	{false, "PATCH", "/v2/core/bookmark-groups/{id}"},
	{false, "GET", "/v2/core/industries"},
	{false, "POST", "/v2/core/industries"},
	{false, "GET", "/v2/core/industries/{id}"},
	{false, "PATCH", "/v2/core/industries/{id}"},
	{false, "POST", "/v2/core/recordings/list-decorations"},
	{false, "POST", "/v2/core/recordings/search"},
	{false, "POST", "/v2/core/recordings/search/slim"},
	{false, "POST", "/v2/core/recordings/users/{userId}/list"},
	{false, "POST", "/v2/core/recordings/{id}/signed-url"},
	{false, "GET", "/v2/core/recordings/{id}/summary"},
}

// documentedRoute reports whether Siro documents method path on the org
// (or user) host.
func documentedRoute(org bool, method, path string) bool {
	for _, d := range documented {
		if d.org == org && d.method == method && matchTemplate(d.path, path) {
			return true
		}
	}
	return false
}

// notServed answers a documented operation the fake does not implement.
func notServed(w http.ResponseWriter, r *http.Request) {
	writeErr(w, http.StatusNotImplemented, "sirotest: "+r.Method+" "+r.URL.Path+" is documented by Siro but not served by this fake")
}
