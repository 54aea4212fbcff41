package siro_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type captured struct {
	host, method, path, query, body, auth, userTok string
}

// opHarness runs both hosts on loopback, records each request and answers
// with the canned status and body.
type opHarness struct {
	mu     sync.Mutex
	last   captured
	status int
	reply  string
	ctype  string
	org    *httptest.Server
	user   *httptest.Server
	c      *siro.Client
}

func newOpHarness(t *testing.T) *opHarness {
	h := &opHarness{}
	// Every request the client sends is validated against Siro's
	// documents; the canned answers are not (they test decoding).
	v := newValidator(t)
	mk := func(host string) *httptest.Server {
		sh := spectest.Org
		if host == "user" {
			sh = spectest.User
		}
		return httptest.NewServer(v.Wrap(sh, spectest.RequestsOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			h.mu.Lock()
			h.last = captured{host, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Get("Authorization"), r.Header.Get("x-siro-auth-token")}
			status, reply, ctype := h.status, h.reply, h.ctype
			h.mu.Unlock()
			if ctype == "" {
				ctype = "application/json"
			}
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, reply)
		})))
	}
	h.org, h.user = mk("org"), mk("user")
	t.Cleanup(h.org.Close)
	t.Cleanup(h.user.Close)
	var err error
	h.c, err = siro.NewClient(siro.WithOrgToken("org-tok"), siro.WithUserToken("user-tok"),
		siro.WithOrgBaseURL(h.org.URL+"/api-externalApi"), siro.WithUserBaseURL(h.user.URL),
		siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	return h
}

func ptr[T any](v T) *T { return &v }

// TestEveryOperation checks, per operation: method, host, path, exact
// query, auth header, body, and the decoded result.
func TestEveryOperation(t *testing.T) {
	ctx := context.Background()
	ts := *siro.At(time.Date(2024, 6, 13, 4, 0, 0, 592e6, time.UTC))
	cases := []struct {
		name         string
		call         func(c *siro.Client) (any, error)
		host, method string
		path, query  string
		body         string // JSON, "" for none
		status       int
		reply        string
		check        func(t *testing.T, got any)
	}{
		{"SyncOpportunity", func(c *siro.Client) (any, error) {
			return c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "opp-1", Amount: ptr(0.0), Disposition: siro.DispositionOpen,
				Account: &siro.SyncAccount{ExternalID: "acc-1"}, OpportunityUsers: []siro.SyncUser{{ExternalID: "rep-1"}}})
		}, "org", "PUT", "/api-externalApi/v1/integrations/sync/opportunities", "",
			`{"externalId":"opp-1","amount":0,"disposition":"OPEN","account":{"externalId":"acc-1"},"opportunityUsers":[{"externalId":"rep-1"}]}`,
			200, `{"data":{"id":"o1","externalId":"opp-1","amount":0}}`,
			func(t *testing.T, got any) { assert.Equal(t, "o1", got.(*siro.Opportunity).ID) }},
		{"SyncOpportunities", func(c *siro.Client) (any, error) {
			return c.SyncOpportunities(ctx, []siro.SyncOpportunity{{ExternalID: "a"}, {ExternalID: "b"}})
		}, "org", "PUT", "/api-externalApi/v1/integrations/sync/batch/opportunities", "", `[{"externalId":"a"},{"externalId":"b"}]`,
			200, `{"data":[{"id":"1","externalId":"a"},{"id":"2","externalId":"b"}]}`,
			func(t *testing.T, got any) { assert.Len(t, got.([]siro.Opportunity), 2) }},
		{"SoftDeleteRemovedEngagements", func(c *siro.Client) (any, error) {
			return nil, c.SoftDeleteRemovedEngagements(ctx, &siro.SoftDeleteRemovedParams{ValidExternalIDs: []string{}, FromTime: ts, ToTime: ts})
		}, "org", "POST", "/api-externalApi/v1/integrations/sync/engagements/soft-delete-removed", "",
			`{"validExternalIds":[],"fromTime":"2024-06-13T04:00:00.592Z","toTime":"2024-06-13T04:00:00.592Z"}`,
			200, `{"data":{"success":true}}`, nil},
		{"SyncMultimediaEvent", func(c *siro.Client) (any, error) {
			return c.SyncMultimediaEvent(ctx, &siro.MultimediaEvent{DownloadURL: "https://x/a.mp3", RemoteCreatedAt: ts, ExternalUserID: "u",
				ExternalEmailAddress: "u@x", ExternalID: "m1", OrganizationID: "org", MimeType: "audio/mpeg", ExternalEventID: "e1"})
		}, "org", "PUT", "/api-externalApi/v1/integrations/multimedia-events", "",
			`{"downloadUrl":"https://x/a.mp3","remoteCreatedAt":"2024-06-13T04:00:00.592Z","externalUserId":"u","externalEmailAddress":"u@x","externalId":"m1","organizationId":"org","mimeType":"audio/mpeg","externalEventId":"e1"}`,
			201, `{"data":{"ok":1}}`, func(t *testing.T, got any) { assert.JSONEq(t, `{"ok":1}`, string(got.(json.RawMessage))) }},
		{"SyncMultimediaEvents", func(c *siro.Client) (any, error) {
			return c.SyncMultimediaEvents(ctx, []siro.MultimediaEvent{{DownloadURL: "d", RemoteCreatedAt: ts, ExternalUserID: "u",
				ExternalEmailAddress: "e", ExternalID: "m", OrganizationID: "o", MimeType: "m", ExternalEventID: "x"}})
		}, "org", "PUT", "/api-externalApi/v1/integrations/batch/multimedia-events", "",
			`[{"downloadUrl":"d","remoteCreatedAt":"2024-06-13T04:00:00.592Z","externalUserId":"u","externalEmailAddress":"e","externalId":"m","organizationId":"o","mimeType":"m","externalEventId":"x"}]`,
			201, `{"data":null}`, nil},
		{"ListEngagements", func(c *siro.Client) (any, error) {
			return c.ListEngagements(ctx, &siro.ListEngagementsParams{ExternalID: "appt 1&2", Cursor: "c1"})
		}, "org", "GET", "/api-externalApi/v1/integrations/engagements", "cursor=c1&externalId=appt+1%262", "",
			200, `{"data":[{"id":"e1","externalId":"appt 1&2"}],"cursor":"c2","pageSize":1,"total":null,"hasNextPage":true}`,
			func(t *testing.T, got any) {
				p := got.(*siro.Page[siro.Engagement])
				assert.Equal(t, siro.Cursor("c2"), p.Cursor)
				assert.True(t, *p.HasNextPage)
				assert.Nil(t, p.Total)
			}},
		{"GetEngagement", func(c *siro.Client) (any, error) { return c.GetEngagement(ctx, "e/1") },
			"org", "GET", "/api-externalApi/v1/integrations/engagements/e%2F1", "", "",
			200, `{"id":"e/1","externalId":"x","recordingId":"rec_1"}`,
			func(t *testing.T, got any) { assert.Equal(t, "rec_1", got.(*siro.Engagement).RecordingID) }},
		{"DeleteEngagement", func(c *siro.Client) (any, error) {
			return nil, c.DeleteEngagement(ctx, "appt-1", &siro.DeleteEngagementParams{IDType: siro.IDExternal})
		}, "org", "DELETE", "/api-externalApi/v1/integrations/engagements/appt-1", "idType=external", "",
			200, `true`, nil},
		{"ListUserEngagements", func(c *siro.Client) (any, error) {
			return c.ListUserEngagements(ctx, "u1", &siro.UserEngagementsParams{Limit: 10, StartingAfter: "e9"})
		}, "org", "GET", "/api-externalApi/v1/integrations/users/u1/engagements", "limit=10&startingAfter=e9", "",
			200, `[{"id":"e1"}]`, func(t *testing.T, got any) { assert.Len(t, got.([]siro.Engagement), 1) }},
		{"ListEngagementUsers", func(c *siro.Client) (any, error) {
			return c.ListEngagementUsers(ctx, &siro.ListEngagementUsersParams{EngagementID: "e1"})
		}, "org", "GET", "/api-externalApi/v1/integrations/engagement-users", "engagementId=e1", "",
			200, `[{"id":"eu1","engagementId":"e1","userId":"u1"}]`, func(t *testing.T, got any) { assert.Equal(t, "u1", got.([]siro.EngagementUser)[0].UserID) }},
		{"CreateEngagementUser", func(c *siro.Client) (any, error) {
			return c.CreateEngagementUser(ctx, &siro.EngagementUserParams{EngagementID: "e1", UserID: "u1", Name: "Rep"})
		}, "org", "POST", "/api-externalApi/v1/integrations/engagement-users", "", `{"engagementId":"e1","userId":"u1","name":"Rep"}`,
			200, `{"id":"eu1"}`, func(t *testing.T, got any) { assert.Equal(t, "eu1", got.(*siro.EngagementUser).ID) }},
		{"GetEngagementUser", func(c *siro.Client) (any, error) { return c.GetEngagementUser(ctx, "eu1") },
			"org", "GET", "/api-externalApi/v1/integrations/engagement-users/eu1", "", "", 200, `{"id":"eu1"}`, nil},
		{"UpdateEngagementUser", func(c *siro.Client) (any, error) {
			return c.UpdateEngagementUser(ctx, "eu1", &siro.EngagementUserParams{Name: "New"})
		}, "org", "PUT", "/api-externalApi/v1/integrations/engagement-users/eu1", "", `{"name":"New"}`, 200, `{"id":"eu1","name":"New"}`, nil},
		{"DeleteEngagementUser", func(c *siro.Client) (any, error) { return nil, c.DeleteEngagementUser(ctx, "eu1") },
			"org", "DELETE", "/api-externalApi/v1/integrations/engagement-users/eu1", "", "", 200, `true`, nil},
		{"ListOpportunities", func(c *siro.Client) (any, error) {
			return c.ListOpportunities(ctx, &siro.ListOpportunitiesParams{RecordingID: "r1"})
		}, "org", "GET", "/api-externalApi/v1/integrations/opportunities", "recordingId=r1", "", 200, `{"data":[],"cursor":null}`, nil},
		{"GetOpportunity", func(c *siro.Client) (any, error) { return c.GetOpportunity(ctx, "o1") },
			"org", "GET", "/api-externalApi/v1/integrations/opportunities/o1", "", "", 200, `{"id":"o1","name":null}`,
			func(t *testing.T, got any) { assert.Nil(t, got.(*siro.Opportunity).Name) }},
		{"DeleteOpportunity", func(c *siro.Client) (any, error) { return nil, c.DeleteOpportunity(ctx, "o1") },
			"org", "DELETE", "/api-externalApi/v1/integrations/opportunities/o1", "", "", 200, `true`, nil},
		{"ListOpportunityUsers", func(c *siro.Client) (any, error) {
			return c.ListOpportunityUsers(ctx, &siro.ListOpportunityUsersParams{OpportunityID: "o1", UserID: "u1"})
		}, "org", "GET", "/api-externalApi/v1/integrations/opportunity-users", "opportunityId=o1&userId=u1", "", 200, `[]`, nil},
		{"CreateOpportunityUser", func(c *siro.Client) (any, error) {
			return c.CreateOpportunityUser(ctx, &siro.OpportunityUserParams{OpportunityID: "o1", UserID: "u1", AmountPercentage: ptr(0.0)})
		}, "org", "POST", "/api-externalApi/v1/integrations/opportunity-users", "", `{"opportunityId":"o1","userId":"u1","amountPercentage":0}`,
			200, `{"id":"ou1","amountPercentage":0}`, func(t *testing.T, got any) { assert.Equal(t, 0.0, *got.(*siro.OpportunityUser).AmountPercentage) }},
		{"GetOpportunityUser", func(c *siro.Client) (any, error) { return c.GetOpportunityUser(ctx, "ou1") },
			"org", "GET", "/api-externalApi/v1/integrations/opportunity-users/ou1", "", "", 200, `{"id":"ou1"}`, nil},
		{"UpdateOpportunityUser", func(c *siro.Client) (any, error) {
			return c.UpdateOpportunityUser(ctx, "ou1", &siro.OpportunityUserParams{AmountPercentage: ptr(0.5)})
		}, "org", "PUT", "/api-externalApi/v1/integrations/opportunity-users/ou1", "", `{"amountPercentage":0.5}`, 200, `{"id":"ou1"}`, nil},
		{"DeleteOpportunityUser", func(c *siro.Client) (any, error) { return nil, c.DeleteOpportunityUser(ctx, "ou1") },
			"org", "DELETE", "/api-externalApi/v1/integrations/opportunity-users/ou1", "", "", 200, `true`, nil},
		{"ListAccounts", func(c *siro.Client) (any, error) { return c.ListAccounts(ctx) },
			"org", "GET", "/api-externalApi/v1/integrations/accounts", "", "", 200, `[{"id":"a1","externalId":"acc-1","addresses":[]}]`,
			func(t *testing.T, got any) { assert.Equal(t, "acc-1", got.([]siro.Account)[0].ExternalID) }},
		{"CreateAccount", func(c *siro.Client) (any, error) {
			return c.CreateAccount(ctx, &siro.AccountParams{ExternalID: "acc-1", Name: "Smith", Latitude: ptr(0.0), Longitude: ptr(0.0)})
		}, "org", "POST", "/api-externalApi/v1/integrations/accounts", "", `{"externalId":"acc-1","name":"Smith","latitude":0,"longitude":0}`,
			200, `{"id":"a1"}`, nil},
		{"GetAccount", func(c *siro.Client) (any, error) { return c.GetAccount(ctx, "a1") },
			"org", "GET", "/api-externalApi/v1/integrations/accounts/a1", "", "", 200, `{"id":"a1"}`, nil},
		{"UpdateAccount", func(c *siro.Client) (any, error) {
			return c.UpdateAccount(ctx, "a1", &siro.AccountParams{ExternalID: "ignored", Name: "New"})
		}, "org", "PUT", "/api-externalApi/v1/integrations/accounts/a1", "", `{"name":"New"}`, 200, `{"id":"a1"}`, nil},
		{"DeleteAccount", func(c *siro.Client) (any, error) { return nil, c.DeleteAccount(ctx, "a1") },
			"org", "DELETE", "/api-externalApi/v1/integrations/accounts/a1", "", "", 200, `true`, nil},
		{"ListCRMUsers", func(c *siro.Client) (any, error) { return c.ListCRMUsers(ctx, &siro.ListCRMUsersParams{PageSize: 50}) },
			"org", "GET", "/api-externalApi/v1/integrations/users", "pageSize=50", "", 200, `{"data":[{"x":1}],"cursor":null}`, nil},
		{"GetCRMUser", func(c *siro.Client) (any, error) { return c.GetCRMUser(ctx, "cu1") },
			"org", "GET", "/api-externalApi/v1/integrations/users/cu1", "", "", 200, `{"data":{"id":"cu1"}}`,
			func(t *testing.T, got any) { assert.JSONEq(t, `{"id":"cu1"}`, string(got.(json.RawMessage))) }},
		{"ListRecordings", func(c *siro.Client) (any, error) {
			return c.ListRecordings(ctx, &siro.ListRecordingsParams{RecordingShow: siro.RecordingShow{ShowCRMLinks: true, ShowSummary: true},
				UpdatedAtGTE: &ts, PageSize: 25, IsProcessingDone: ptr(false)})
		}, "org", "GET", "/api-externalApi/v1/core/recordings",
			"isProcessingDone=false&pageSize=25&showCrmLinks=true&showSummary=true&updatedAt:gte=2024-06-13T04%3A00%3A00.592Z", "",
			200, `{"data":[{"id":"r1","crm":{"integrationConnectionId":"ic1","engagement":{"id":"e1","externalId":"appt-1"}},"summary":[{"id":"s","name":"Overview","content":"ok"}]}],"cursor":null}`,
			func(t *testing.T, got any) {
				r := got.(*siro.Page[siro.Recording]).Data[0]
				assert.Equal(t, "appt-1", r.CRM.Engagement.ExternalID)
				assert.Equal(t, "Overview", r.Summary[0].Name)
			}},
		{"GetRecording", func(c *siro.Client) (any, error) {
			return c.GetRecording(ctx, "r1", &siro.RecordingShow{ShowEntityExtractions: true, ShowFollowups: true})
		}, "org", "GET", "/api-externalApi/v1/core/recordings/r1", "showEntityExtractions=true&showFollowups=true", "",
			200, `{"id":"r1","entityExtractions":[{"name":"Budget","value":25000,"mappings":[{"crmModelName":"Opportunity","crmFieldName":"Amount"}]}]}`,
			func(t *testing.T, got any) {
				f := got.(*siro.Recording).EntityExtractions[0]
				assert.Equal(t, "25000", f.String())
				assert.Equal(t, "Amount", f.Mappings[0].CRMFieldName)
			}},
		{"GetRecordingSummaries", func(c *siro.Client) (any, error) { return c.GetRecordingSummaries(ctx, "r1") },
			"org", "GET", "/api-externalApi/v1/core/recordings/r1/summaries", "", "", 200, `[{"id":"s1","name":"Next steps","content":"Send quote"}]`,
			func(t *testing.T, got any) { assert.Equal(t, "Send quote", got.([]siro.SummarySection)[0].Content) }},
		{"GetRecordingSummaries (quickstart envelope)", func(c *siro.Client) (any, error) { return c.GetRecordingSummaries(ctx, "r1") },
			"org", "GET", "/api-externalApi/v1/core/recordings/r1/summaries", "", "", 200, ` {"data":[{"id":"summary-001","name":"AI Summary","content":"Summary text here..."}]}`,
			func(t *testing.T, got any) {
				assert.Equal(t, []siro.SummarySection{{ID: "summary-001", Name: "AI Summary", Content: "Summary text here..."}}, got)
			}},
		{"ListMobileEvents", func(c *siro.Client) (any, error) {
			return c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{PageSize: 100, EventCodeIn: []siro.MobileEventCode{siro.MobileDeeplinkReceived, siro.MobileAppStateChange}})
		}, "org", "GET", "/api-externalApi/v1/core/mobile-events", "eventCodeIn=deeplinkReceived&eventCodeIn=appStateChange&pageSize=100", "",
			200, `{"data":[[{"id":"m1","eventCode":"deeplinkReceived","event":{"fullUrl":"siro://record"}}],{"id":"m2"}],"cursor":"n"}`,
			func(t *testing.T, got any) {
				p := got.(*siro.Page[siro.MobileEvent])
				require.Len(t, p.Data, 2, "array of arrays and flat items both decode")
				assert.Equal(t, "m2", p.Data[1].ID)
			}},
		{"GetMobileEvent", func(c *siro.Client) (any, error) { return c.GetMobileEvent(ctx, "m1") },
			"org", "GET", "/api-externalApi/v1/core/mobile-events/m1", "", "", 200, `{"id":"m1"}`, nil},
		{"CreateOAuthApp", func(c *siro.Client) (any, error) {
			return c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "crm", Owner: "u1", OrganizationID: "org1"})
		}, "org", "POST", "/api-externalApi/v1/core/oauth/apps", "", `{"appName":"crm","owner":"u1","organizationId":"org1"}`,
			201, `{"appName":"crm","clientID":"cid","clientSecret":"shh"}`,
			func(t *testing.T, got any) {
				a := got.(*siro.NewOAuthApp)
				assert.Equal(t, "cid", a.ClientID)
				assert.NotContains(t, a.String(), "shh")
			}},
		{"ListOAuthApps", func(c *siro.Client) (any, error) {
			return c.ListOAuthApps(ctx, &siro.ListOAuthAppsParams{OrganizationID: "org1", Owner: "u1", OAuthListParams: siro.OAuthListParams{Limit: 10, SortDirection: "asc"}})
		}, "org", "GET", "/api-externalApi/v1/core/oauth/apps", "limit=10&organizationId=org1&owner=u1&sortDirection=asc", "",
			200, `{"data":[{"appName":"crm","clientId":"cid","createdAt":"2024-06-13T04:00:00Z","updatedAt":"2024-06-13T04:00:00Z"}],"cursor":null}`, nil},
		{"GetOAuthApp", func(c *siro.Client) (any, error) { return c.GetOAuthApp(ctx, "cid") },
			"org", "GET", "/api-externalApi/v1/core/oauth/apps/cid", "", "", 200, `{"data":{"clientId":"cid","createdAt":"2024-06-13T04:00:00Z","updatedAt":"2024-06-13T04:00:00Z"}}`,
			func(t *testing.T, got any) { assert.Equal(t, "cid", got.(*siro.OAuthApp).ClientID) }},
		{"DeleteOAuthApp", func(c *siro.Client) (any, error) { return nil, c.DeleteOAuthApp(ctx, "cid") },
			"org", "DELETE", "/api-externalApi/v1/core/oauth/apps/cid", "", "", 200, `{"clientId":"cid"}`, nil},
		{"CreateAccessToken", func(c *siro.Client) (any, error) {
			return c.CreateAccessToken(ctx, "cid", &siro.CreateAccessTokenParams{ClientSecret: "shh", UserID: "u1", Scope: siro.ScopeWrite})
		}, "org", "POST", "/api-externalApi/v1/core/oauth/apps/cid/access-token", "", `{"clientSecret":"shh","userId":"u1","scope":"write"}`,
			201, `{"accessTokenId":"t1","accessToken":"tok"}`, func(t *testing.T, got any) { assert.Equal(t, "t1", got.(*siro.AccessToken).AccessTokenID) }},
		{"ListAccessTokens", func(c *siro.Client) (any, error) {
			return c.ListAccessTokens(ctx, "cid", &siro.ListAccessTokensParams{Owner: "u1", OAuthListParams: siro.OAuthListParams{Page: 2}})
		}, "org", "GET", "/api-externalApi/v1/core/oauth/apps/cid/access-token", "owner=u1&page=2", "",
			200, `{"data":[],"cursor":null,"limit":100}`, nil},
		{"GetAccessToken", func(c *siro.Client) (any, error) { return c.GetAccessToken(ctx, "cid", "t1") },
			"org", "GET", "/api-externalApi/v1/core/oauth/apps/cid/access-token/t1", "", "",
			200, `{"data":{"accessTokenId":"t1","scope":"read","expiresAt":"2026-01-01T16:00:00Z","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","revokedAt":null}}`,
			func(t *testing.T, got any) { assert.Equal(t, 16, got.(*siro.OAuthTokenInfo).ExpiresAt.Hour()) }},
		{"RevokeAccessToken", func(c *siro.Client) (any, error) {
			return nil, c.RevokeAccessToken(ctx, &siro.RevokeAccessTokenParams{ClientID: "cid", TokenID: "t1", ClientSecret: "shh", UserID: "u1"})
		},
			"org", "DELETE", "/api-externalApi/v1/core/oauth/apps/cid/access-token/t1", "", `{"clientSecret":"shh","userId":"u1"}`, 200, `{"tokenId":"t1"}`, nil},
		{"CallerIdentity", func(c *siro.Client) (any, error) { return c.CallerIdentity(ctx) },
			"org", "GET", "/api-externalApi/v1/core/auth/caller-identity", "", "", 200, `{"tokenId":"tk","organizationId":"org1","authorizedOrgGroupId":null}`,
			func(t *testing.T, got any) { assert.Equal(t, "org1", got.(*siro.OrgToken).OrganizationID) }},
		{"ListConnections", func(c *siro.Client) (any, error) {
			return c.ListConnections(ctx, &siro.ListConnectionsParams{IntegrationPlatform: "SALESFORCE"})
		}, "org", "GET", "/api-externalApi/v1/core/integrations/connections", "integrationPlatform=SALESFORCE", "",
			200, `{"data":[{"id":"ic1","syncStatus":[{"modelName":"Engagement","modelSyncStatus":"UP_TO_DATE"}]}],"cursor":null}`, nil},
		{"CreateConnection", func(c *siro.Client) (any, error) {
			return c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "CRM", IntegrationPlatform: siro.PlatformSiroCustomInput, ExternalAccountID: "tenant-1", IsActive: ptr(false)})
		}, "org", "POST", "/api-externalApi/v1/core/integrations/connections", "",
			`{"name":"CRM","integrationPlatform":"SIRO_CUSTOM_INPUT","externalAccountId":"tenant-1","isActive":false}`, 201, `{"id":"ic1"}`, nil},
		{"GetConnection", func(c *siro.Client) (any, error) { return c.GetConnection(ctx, "ic1") },
			"org", "GET", "/api-externalApi/v1/core/integrations/connections/ic1", "", "", 200, `{"id":"ic1"}`, nil},
		{"UpdateConnection", func(c *siro.Client) (any, error) {
			return c.UpdateConnection(ctx, "ic1", &siro.UpdateConnectionParams{SyncTranscript: ptr(false)})
		}, "org", "PATCH", "/api-externalApi/v1/core/integrations/connections/ic1", "", `{"syncTranscript":false}`, 200, `{"id":"ic1"}`, nil},
		{"DeleteConnection", func(c *siro.Client) (any, error) { return c.DeleteConnection(ctx, "ic1") },
			"org", "DELETE", "/api-externalApi/v1/core/integrations/connections/ic1", "", "", 200, `{"id":"ic1"}`, nil},
		{"UpsertSalesforce", func(c *siro.Client) (any, error) {
			id, active, err := c.UpsertSalesforce(ctx, &siro.SalesforceParams{Namespace: "ns", OrgID: "00D", InstanceURL: "https://x.my.salesforce.com", IsProd: ptr(true)})
			return []any{id, active}, err
		}, "org", "PUT", "/api-externalApi/v1/core/integrations/salesforce", "",
			`{"namespace":"ns","org_id":"00D","instance_url":"https://x.my.salesforce.com","is_prod":true}`,
			200, `{"integrationConnectionId":"ic9","isActive":true}`, func(t *testing.T, got any) { assert.Equal(t, []any{"ic9", true}, got) }},
		{"GetRecordingDetails", func(c *siro.Client) (any, error) {
			return c.GetRecordingDetails(ctx, "r1", &siro.RecordingDetailsShow{ShowSummary: true, ShowEntityExtractions: true})
		}, "user", "GET", "/v1/core/recordings/r1", "showEntityExtractions=true&showSummary=true", "",
			200, `{"data":{"id":"r1","summary":"Homeowner wants quartz","entityExtractions":[{"id":"x","status":"SUCCESS","extraction":[{"name":"Budget","value":"25k","mappings":null}]}]}}`,
			func(t *testing.T, got any) {
				d := got.(*siro.RecordingDetails)
				assert.Equal(t, "Homeowner wants quartz", d.Summary)
				assert.Equal(t, "25k", d.EntityExtractions[0].Extraction[0].String())
			}},
		{"GetUtterances", func(c *siro.Client) (any, error) {
			return c.GetUtterances(ctx, "r1", &siro.UtterancesParams{Page: 1, PageSize: 500})
		},
			"user", "GET", "/v1/core/recordings/r1/utterances", "cursor=1&pageSize=500", "",
			200, `{"data":{"utterances":[{"utterance":"Hi","speakerTag":"S1","startTimeInMillis":0,"endTimeInMillis":900,"redacted":false}],"isLowDataMode":false,"speakerMap":{"S1":"Rep"}},"pageSize":500,"cursor":2}`,
			func(t *testing.T, got any) {
				tr := got.(*siro.Transcript)
				assert.Equal(t, 2, tr.NextPage)
				assert.Equal(t, "Rep", tr.Speaker(tr.Utterances[0]))
			}},
		{"GetEntityExtractions", func(c *siro.Client) (any, error) { return c.GetEntityExtractions(ctx, "r1") },
			"user", "GET", "/v1/core/entities/extractions/r1", "", "", 200, `{"data":[{"id":"x","status":"SUCCESS","extraction":null}],"cursor":null}`,
			func(t *testing.T, got any) {
				assert.Equal(t, siro.ExtractionSuccess, got.([]siro.EntityExtraction)[0].Status)
			}},
		{"LinkRecording", func(c *siro.Client) (any, error) {
			return c.LinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataOpportunity, ExternalID: "006xx", IntegrationConnectionID: "ic1"})
		}, "user", "PUT", "/v1/core/recordings/r1/link", "", `{"dataType":"OPPORTUNITY","externalId":"006xx","integrationConnectionId":"ic1"}`,
			200, `{"data":{"id":"o1","externalId":"006xx","dataType":"OPPORTUNITY","name":"Kitchen","lastActivityAt":"x"}}`,
			func(t *testing.T, got any) { assert.Equal(t, "Kitchen", got.(*siro.LinkedObject).Name) }},
		{"UnlinkRecording", func(c *siro.Client) (any, error) {
			return nil, c.UnlinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataAccount, ID: "a1"})
		}, "user", "DELETE", "/v1/core/recordings/r1/link", "", `{"id":"a1","dataType":"ACCOUNT"}`, 200, `{"data":true}`,
			nil},
	}
	h := newOpHarness(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.mu.Lock()
			h.status, h.reply, h.ctype = tc.status, tc.reply, ""
			h.mu.Unlock()
			got, err := tc.call(h.c)
			require.NoError(t, err)
			h.mu.Lock()
			last := h.last
			h.mu.Unlock()
			assert.Equal(t, tc.host, last.host, "host")
			assert.Equal(t, tc.method, last.method)
			assert.Equal(t, tc.path, last.path)
			assert.Equal(t, tc.query, last.query)
			if tc.host == "org" {
				assert.Equal(t, "Bearer org-tok", last.auth)
				assert.Empty(t, last.userTok)
			} else {
				assert.Equal(t, "user-tok", last.userTok)
				assert.Empty(t, last.auth, "never Bearer on the user API")
			}
			if tc.body == "" {
				assert.Empty(t, last.body)
			} else {
				assert.JSONEq(t, tc.body, last.body)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
	assert.GreaterOrEqual(t, len(cases)+3, 56-6, "every operation of the scope table (engagement sync ops are in siro_test.go)")
}

func TestErrorShapes(t *testing.T) {
	ctx := context.Background()
	h := newOpHarness(t)
	set := func(status int, ctype, body string) {
		h.mu.Lock()
		h.status, h.reply, h.ctype = status, body, ctype
		h.mu.Unlock()
	}
	set(404, "application/json", `{"error":"Not Found - Resource not found"}`)
	_, err := h.c.GetEngagement(ctx, "nope")
	assert.ErrorIs(t, err, siro.ErrNotFound)
	assert.Contains(t, err.Error(), "Not Found - Resource not found")

	set(404, "text/plain", "Integration connection not found or you do not have permission to view it.")
	_, err = h.c.GetConnection(ctx, "ic")
	var se *siro.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Integration connection not found or you do not have permission to view it.", se.Message)

	set(409, "text/plain", "Duplicate connection for integration platform for org")
	_, err = h.c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "a", IntegrationPlatform: "MERGE", ExternalAccountID: "x"})
	assert.ErrorIs(t, err, siro.ErrConflict)

	set(422, "application/json", `{"issues":[{"code":"custom","path":["externalId"],"message":"send id or externalId"}],"name":"ZodError"}`)
	_, err = h.c.LinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataLead, ID: "l1"})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "externalId", se.Issues[0].PathString())

	// 200 with an error inside (the CRM-link calls).
	set(200, "application/json", `{"error":"Recording not linkable","details":{"reason":"deleted"}}`)
	_, err = h.c.LinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataLead, ID: "l1"})
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 200, se.StatusCode)
	assert.Equal(t, "Recording not linkable", se.Message)
	assert.JSONEq(t, `{"reason":"deleted"}`, string(se.Details))
	err = h.c.UnlinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataLead, ID: "l1"})
	require.ErrorAs(t, err, &se)

	// Bad input never reaches the server.
	set(500, "", "")
	for _, bad := range []*siro.LinkTarget{nil, {DataType: siro.DataLead}, {DataType: siro.DataLead, ID: "a", ExternalID: "b"}, {DataType: siro.DataLead, ExternalID: "b"}, {ID: "a"}} {
		_, err := h.c.LinkRecording(ctx, "r1", bad)
		assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	}
	_, err = h.c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{PageSize: 1001})
	assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	_, err = h.c.GetEngagement(ctx, "..")
	assert.ErrorIs(t, err, siro.ErrInvalidRequest)
}

func TestPaginationIterators(t *testing.T) {
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.URL.RawQuery)
		switch r.URL.Query().Get("cursor") {
		case "":
			_, _ = io.WriteString(w, `{"data":[{"id":"r1"},{"id":"r2"}],"cursor":"p2"}`)
		case "p2":
			_, _ = io.WriteString(w, `{"data":[{"id":"r3"}],"cursor":null}`)
		}
	}))
	defer srv.Close()
	c, _ := siro.NewClient(siro.WithOrgToken("t"), siro.WithOrgBaseURL(srv.URL))
	p := &siro.ListRecordingsParams{PageSize: 2}
	var ids []string
	for r, err := range c.AllRecordings(context.Background(), p) {
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"r1", "r2", "r3"}, ids)
	assert.Equal(t, []string{"pageSize=2", "cursor=p2&pageSize=2"}, calls)
	assert.Empty(t, p.Cursor, "the caller's options are not modified")
}
