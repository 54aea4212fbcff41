package sirotest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryOperation runs every typed client operation against the fake.
func TestEveryOperation(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake, _ := newFake(t, sirotest.WithClock(clk), sirotest.WithTokenTTL(time.Hour))
	walkEveryOperation(t, fake, clk)
}

// walkEveryOperation calls every typed operation, successfully, in an
// order that builds the objects the later calls need.
func walkEveryOperation(t *testing.T, fake *sirotest.Server, clk *webhooktest.FakeClock) {
	ctx := context.Background()
	appID, appSecret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithClock(clk), siro.WithOAuthApp(appID, appSecret, "siro-user-1", siro.ScopeWrite))
	require.NoError(t, err)
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	ts := *siro.At(clk.Now())

	// Sync.
	e, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", StartTime: siro.At(clk.Now()),
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}, Account: &siro.SyncAccount{ExternalID: "acct-1", Name: "Smith"}})
	must(err)
	again, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "updated"})
	must(err)
	assert.Equal(t, e.ID, again.ID, "upsert by externalId")
	_, err = c.SyncEngagements(ctx, []siro.SyncEngagement{{ExternalID: "appt-2"}, {ExternalID: "appt-3"}})
	must(err)
	_, err = c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "opp-2", Name: "Deal"})
	must(err)
	_, err = c.SyncOpportunities(ctx, []siro.SyncOpportunity{{ExternalID: "opp-3"}})
	must(err)
	mm := siro.MultimediaEvent{DownloadURL: "https://x/a.mp3", RemoteCreatedAt: ts, ExternalUserID: "u", ExternalEmailAddress: "u@x",
		ExternalID: "m1", OrganizationID: fake.OrganizationID, MimeType: "audio/mpeg", ExternalEventID: "ev1"}
	_, err = c.SyncMultimediaEvent(ctx, &mm)
	must(err)
	_, err = c.SyncMultimediaEvents(ctx, []siro.MultimediaEvent{mm, mm})
	must(err)
	assert.Equal(t, 3, fake.MultimediaEvents())
	err = c.SoftDeleteRemovedEngagements(ctx, &siro.SoftDeleteRemovedParams{ValidExternalIDs: []string{"appt-1"},
		FromTime: *siro.At(clk.Now().Add(-time.Hour)), ToTime: *siro.At(clk.Now().Add(time.Hour))})
	must(err)

	// Engagements and their users.
	var n int
	for _, err := range c.AllEngagements(ctx, nil) {
		must(err)
		n++
	}
	assert.Equal(t, 3, n)
	got, err := c.GetEngagement(ctx, e.ID)
	must(err)
	assert.Equal(t, "updated", got.Subject)
	eu, err := c.CreateEngagementUser(ctx, &siro.EngagementUserParams{EngagementID: e.ID, UserID: "crm-user-1", Name: "Rep"})
	must(err)
	_, err = c.GetEngagementUser(ctx, eu.ID)
	must(err)
	upd, err := c.UpdateEngagementUser(ctx, eu.ID, &siro.EngagementUserParams{Name: "Senior rep"})
	must(err)
	assert.Equal(t, "Senior rep", upd.Name)
	eus, err := c.ListEngagementUsers(ctx, &siro.ListEngagementUsersParams{EngagementID: e.ID})
	must(err)
	assert.Len(t, eus, 1)
	ues, err := c.ListUserEngagements(ctx, "crm-user-1", nil)
	must(err)
	assert.Len(t, ues, 1)
	must(c.DeleteEngagementUser(ctx, eu.ID))

	// Opportunities and their users.
	opps, err := c.ListOpportunities(ctx, &siro.ListOpportunitiesParams{ExternalID: "opp-2"})
	must(err)
	require.Len(t, opps.Data, 1)
	_, err = c.GetOpportunity(ctx, opps.Data[0].ID)
	must(err)
	ou, err := c.CreateOpportunityUser(ctx, &siro.OpportunityUserParams{OpportunityID: opps.Data[0].ID, UserID: "u1"})
	must(err)
	_, err = c.GetOpportunityUser(ctx, ou.ID)
	must(err)
	_, err = c.UpdateOpportunityUser(ctx, ou.ID, &siro.OpportunityUserParams{Name: "x"})
	must(err)
	ous, err := c.ListOpportunityUsers(ctx, &siro.ListOpportunityUsersParams{OpportunityID: opps.Data[0].ID})
	must(err)
	assert.Len(t, ous, 1)
	err = c.DeleteOpportunityUser(ctx, ou.ID)
	must(err)
	err = c.DeleteOpportunity(ctx, opps.Data[0].ID)
	must(err)

	// Accounts.
	lat := 40.0
	a, err := c.CreateAccount(ctx, &siro.AccountParams{ExternalID: "acct-9", Latitude: &lat, Longitude: &lat})
	must(err)
	_, err = c.UpdateAccount(ctx, a.ID, &siro.AccountParams{Name: "Renamed"})
	must(err)
	ga, err := c.GetAccount(ctx, a.ID)
	must(err)
	assert.Equal(t, "Renamed", ga.Name)
	accts, err := c.ListAccounts(ctx)
	must(err)
	assert.Len(t, accts, 2)
	err = c.DeleteAccount(ctx, a.ID)
	must(err)

	// CRM users and mobile events (seeded).
	fake.AddCRMUser(map[string]any{"id": "cu1", "email": "rep@x"})
	users, err := c.ListCRMUsers(ctx, nil)
	must(err)
	assert.Len(t, users.Data, 1)
	_, err = c.GetCRMUser(ctx, "cu1")
	must(err)
	fake.AddMobileEvent(siro.MobileEvent{ID: "m1", EventCode: siro.MobileDeeplinkReceived, Event: json.RawMessage(`{"fullUrl":"siro://record"}`)})
	fake.AddMobileEvent(siro.MobileEvent{ID: "m2", EventCode: siro.MobileAppStateChange})
	evs, err := c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{EventCodeIn: []siro.MobileEventCode{siro.MobileDeeplinkReceived}})
	must(err)
	require.Len(t, evs.Data, 1)
	_, err = c.GetMobileEvent(ctx, "m2")
	must(err)

	// Recordings, both hosts.
	rec, err := fake.Record("appt-1", sirotest.Conversation{Summary: []siro.SummarySection{{ID: "s", Name: "Overview", Content: "ok"}},
		Utterances: []siro.Utterance{{Utterance: "Hello", SpeakerTag: "A"}}, Speakers: map[string]string{"A": "Rep"}, Processed: true, Linked: true})
	must(err)
	page, err := c.ListRecordings(ctx, &siro.ListRecordingsParams{RecordingShow: siro.RecordingShow{ShowCRMLinks: true}, UpdatedAtGTE: &ts})
	must(err)
	require.Len(t, page.Data, 1)
	assert.Equal(t, "appt-1", page.Data[0].CRM.Engagement.ExternalID)
	_, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowSummary: true})
	must(err)
	sums, err := c.GetRecordingSummaries(ctx, rec.RecordingID)
	must(err)
	assert.Equal(t, "ok", sums[0].Content)
	_, err = c.GetRecordingDetails(ctx, rec.RecordingID, &siro.RecordingDetailsShow{ShowSummary: true})
	must(err)
	tr, err := c.GetUtterances(ctx, rec.RecordingID, nil)
	must(err)
	assert.Equal(t, "Rep", tr.Speaker(tr.Utterances[0]))
	_, err = c.GetEntityExtractions(ctx, rec.RecordingID)
	must(err)
	_, err = c.LinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataOpportunity, ExternalID: "opp-1", IntegrationConnectionID: fake.IntegrationConnectionID})
	must(err)
	err = c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataOpportunity, ExternalID: "opp-1", IntegrationConnectionID: fake.IntegrationConnectionID})
	must(err)
	_, err = c.LinkRecording(ctx, "rec_missing", &siro.LinkTarget{DataType: siro.DataLead, ID: "l"})
	var se *siro.Error
	require.ErrorAs(t, err, &se, "the fake reports some link failures inside a 200, as Siro does")
	assert.Equal(t, 200, se.StatusCode)

	// OAuth, identity, connections.
	apps, err := c.ListOAuthApps(ctx, &siro.ListOAuthAppsParams{OrganizationID: fake.OrganizationID, Owner: "siro-user-1"})
	must(err)
	assert.Len(t, apps.Data, 1)
	_, err = c.GetOAuthApp(ctx, appID)
	must(err)
	toks, err := c.ListAccessTokens(ctx, appID, &siro.ListAccessTokensParams{Owner: "siro-user-1"})
	must(err)
	assert.NotEmpty(t, toks.Data)
	newApp, err := c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "second", Owner: "u", OrganizationID: fake.OrganizationID})
	must(err)
	tok, err := c.CreateAccessToken(ctx, newApp.ClientID, &siro.CreateAccessTokenParams{ClientSecret: newApp.ClientSecret, UserID: "u", Scope: siro.ScopeRead})
	must(err)
	info, err := c.GetAccessToken(ctx, newApp.ClientID, tok.AccessTokenID)
	must(err)
	assert.Equal(t, clk.Now().Add(time.Hour).Unix(), info.ExpiresAt.Unix())
	must(c.RevokeAccessToken(ctx, &siro.RevokeAccessTokenParams{ClientID: newApp.ClientID, TokenID: tok.AccessTokenID, ClientSecret: newApp.ClientSecret, UserID: "u"}))
	must(c.DeleteOAuthApp(ctx, newApp.ClientID))
	id, err := c.CallerIdentity(ctx)
	must(err)
	assert.Equal(t, fake.OrganizationID, id.OrganizationID)
	ic, err := c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "CRM", IntegrationPlatform: siro.PlatformSiroCustomInput, ExternalAccountID: "t1"})
	must(err)
	_, err = c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "CRM", IntegrationPlatform: siro.PlatformSiroCustomInput, ExternalAccountID: "t1"})
	assert.ErrorIs(t, err, siro.ErrConflict)
	_, err = c.GetConnection(ctx, ic.ID)
	must(err)
	off := false
	pic, err := c.UpdateConnection(ctx, ic.ID, &siro.UpdateConnectionParams{IsActive: &off})
	must(err)
	assert.False(t, pic.IsActive)
	for _, err := range c.AllConnections(ctx, nil) {
		must(err)
	}
	_, err = c.DeleteConnection(ctx, ic.ID)
	must(err)
	_, err = c.GetConnection(ctx, ic.ID)
	require.ErrorIs(t, err, siro.ErrNotFound)
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Message, "not found or you do not have permission")
	_, _, err = c.UpsertSalesforce(ctx, &siro.SalesforceParams{Namespace: "n", OrgID: "o", InstanceURL: "https://x"})
	must(err)

	// Deleted by soft-delete-removed: appt-2 and appt-3 were outside the set.
	err = c.DeleteEngagement(ctx, "appt-1", &siro.DeleteEngagementParams{IDType: siro.IDExternal})
	must(err)
}

func TestAuthPerHostAndTokenExpiry(t *testing.T) {
	ctx := context.Background()
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake, v := newFake(t, sirotest.WithClock(clk), sirotest.WithTokenTTL(time.Hour))
	bad, _ := siro.NewClient(siro.WithOrgToken("wrong"), siro.WithOrgBaseURL(fake.OrgURL()))
	_, err := bad.CallerIdentity(ctx)
	assert.ErrorIs(t, err, siro.ErrUnauthorized)
	// The org token is not a user token.
	orgAsUser, _ := siro.NewClient(siro.WithUserToken(fake.OrgToken), siro.WithUserBaseURL(fake.UserURL()))
	_, err = orgAsUser.GetEntityExtractions(ctx, "r")
	assert.ErrorIs(t, err, siro.ErrUnauthorized)

	id, secret := fake.CreateOAuthApp()
	c, _ := fake.Client(siro.WithClock(clk), siro.WithOAuthApp(id, secret, "u", siro.ScopeRead))
	_, _ = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "a"})
	rec, _ := fake.Record("a", sirotest.Conversation{})
	_, err = c.GetEntityExtractions(ctx, rec.RecordingID)
	require.NoError(t, err)
	clk.Advance(2 * time.Hour) // the fake's token expired; the client refreshes on its own
	_, err = c.GetEntityExtractions(ctx, rec.RecordingID)
	require.NoError(t, err)
	// A read token cannot write.
	_, err = c.LinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataLead, ID: "l"})
	assert.ErrorIs(t, err, siro.ErrForbidden)
	// 422 issues on bad input sent past the client (through the escape
	// hatch); the validator sees the request Siro's document rejects.
	v.Expect(`PUT /v1/integrations/sync/batch/engagements: request: request body has an error: doesn't match schema: at /1/externalId: property "externalId" is missing`)
	err = c.Do(ctx, siro.OrgAPI, "PUT", "/v1/integrations/sync/batch/engagements", nil, nil, []map[string]string{{"externalId": "x"}, {}}, nil)
	var se *siro.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 422, se.StatusCode)
	assert.Equal(t, "[1].externalId", se.Issues[0].PathString())
	// Injected faults and rate limits.
	noRetry, _ := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	fake.Fail("/v1/core/auth/caller-identity", 500, 1)
	_, err = noRetry.CallerIdentity(ctx)
	assert.ErrorIs(t, err, siro.ErrServer)
	_, err = noRetry.CallerIdentity(ctx)
	assert.NoError(t, err, "the fault was injected once")
}

func TestRateLimit(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake, _ := newFake(t, sirotest.WithClock(clk), sirotest.WithRateLimit(3))
	c, _ := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	for i := 0; i < 3; i++ {
		_, err := c.CallerIdentity(context.Background())
		require.NoError(t, err)
	}
	_, err := c.CallerIdentity(context.Background())
	assert.ErrorIs(t, err, siro.ErrRateLimited)
	clk.Advance(time.Minute)
	_, err = c.CallerIdentity(context.Background())
	assert.NoError(t, err, "a new minute, a new window")
}

// clientOperations is every operation the siro client types, as "host
// METHOD route" of Siro's documents.
var clientOperations = []string{
	"org DELETE /v1/core/integrations/connections/{id}",
	"org DELETE /v1/core/oauth/apps/{clientId}",
	"org DELETE /v1/core/oauth/apps/{clientId}/access-token/{tokenId}",
	"org DELETE /v1/integrations/accounts/{id}",
	"org DELETE /v1/integrations/engagement-users/{id}",
	"org DELETE /v1/integrations/engagements/{id}",
	"org DELETE /v1/integrations/opportunities/{id}",
	"org DELETE /v1/integrations/opportunity-users/{id}",
	"org GET /v1/core/auth/caller-identity",
	"org GET /v1/core/integrations/connections",
	"org GET /v1/core/integrations/connections/{id}",
	"org GET /v1/core/mobile-events",
	"org GET /v1/core/mobile-events/{id}",
	"org GET /v1/core/oauth/apps",
	"org GET /v1/core/oauth/apps/{clientId}",
	"org GET /v1/core/oauth/apps/{clientId}/access-token",
	"org GET /v1/core/oauth/apps/{clientId}/access-token/{tokenId}",
	"org GET /v1/core/recordings",
	"org GET /v1/core/recordings/{id}",
	"org GET /v1/core/recordings/{id}/summaries",
	"org GET /v1/integrations/accounts",
	"org GET /v1/integrations/accounts/{id}",
	"org GET /v1/integrations/engagement-users",
	"org GET /v1/integrations/engagement-users/{id}",
	"org GET /v1/integrations/engagements",
	"org GET /v1/integrations/engagements/{id}",
	"org GET /v1/integrations/opportunities",
	"org GET /v1/integrations/opportunities/{id}",
	"org GET /v1/integrations/opportunity-users",
	"org GET /v1/integrations/opportunity-users/{id}",
	"org GET /v1/integrations/users",
	"org GET /v1/integrations/users/{id}",
	"org GET /v1/integrations/users/{id}/engagements",
	"org PATCH /v1/core/integrations/connections/{id}",
	"org POST /v1/core/integrations/connections",
	"org POST /v1/core/oauth/apps",
	"org POST /v1/core/oauth/apps/{clientId}/access-token",
	"org POST /v1/integrations/accounts",
	"org POST /v1/integrations/engagement-users",
	"org POST /v1/integrations/opportunity-users",
	"org POST /v1/integrations/sync/engagements/soft-delete-removed",
	"org PUT /v1/core/integrations/salesforce",
	"org PUT /v1/integrations/accounts/{id}",
	"org PUT /v1/integrations/batch/multimedia-events",
	"org PUT /v1/integrations/engagement-users/{id}",
	"org PUT /v1/integrations/multimedia-events",
	"org PUT /v1/integrations/opportunity-users/{id}",
	"org PUT /v1/integrations/sync/batch/engagements",
	"org PUT /v1/integrations/sync/batch/opportunities",
	"org PUT /v1/integrations/sync/engagements",
	"org PUT /v1/integrations/sync/opportunities",
	"user DELETE /v1/core/recordings/{id}/link",
	"user GET /v1/core/entities/extractions/{recordingId}",
	"user GET /v1/core/recordings/{id}",
	"user GET /v1/core/recordings/{id}/utterances",
	"user PUT /v1/core/recordings/{id}/link",
}

// everyCall calls every typed client operation once with placeholder
// arguments valid for the client; used to provoke error answers.
func everyCall(ctx context.Context, c *siro.Client) []func() error {
	ts := *siro.At(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	mm := siro.MultimediaEvent{DownloadURL: "https://x/a.mp3", RemoteCreatedAt: ts, ExternalUserID: "u", ExternalEmailAddress: "u@x",
		ExternalID: "m1", OrganizationID: "o", MimeType: "audio/mpeg", ExternalEventID: "ev1"}
	lat := 40.0
	link := &siro.LinkTarget{DataType: siro.DataLead, ID: "l"}
	e := func(_ any, err error) error { return err }
	e3 := func(_ string, _ bool, err error) error { return err }
	return []func() error{
		func() error { return e(c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "x"})) },
		func() error { return e(c.SyncEngagements(ctx, []siro.SyncEngagement{{ExternalID: "x"}})) },
		func() error { return e(c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "x"})) },
		func() error { return e(c.SyncOpportunities(ctx, []siro.SyncOpportunity{{ExternalID: "x"}})) },
		func() error {
			return c.SoftDeleteRemovedEngagements(ctx, &siro.SoftDeleteRemovedParams{ValidExternalIDs: []string{}, FromTime: ts, ToTime: ts})
		},
		func() error { return e(c.SyncMultimediaEvent(ctx, &mm)) },
		func() error { return e(c.SyncMultimediaEvents(ctx, []siro.MultimediaEvent{mm})) },
		func() error { return e(c.ListEngagements(ctx, nil)) },
		func() error { return e(c.GetEngagement(ctx, "missing")) },
		func() error { return c.DeleteEngagement(ctx, "missing", nil) },
		func() error { return e(c.ListUserEngagements(ctx, "missing", nil)) },
		func() error { return e(c.ListEngagementUsers(ctx, nil)) },
		func() error {
			return e(c.CreateEngagementUser(ctx, &siro.EngagementUserParams{EngagementID: "e", UserID: "u"}))
		},
		func() error { return e(c.GetEngagementUser(ctx, "missing")) },
		func() error { return e(c.UpdateEngagementUser(ctx, "missing", &siro.EngagementUserParams{Name: "n"})) },
		func() error { return c.DeleteEngagementUser(ctx, "missing") },
		func() error { return e(c.ListOpportunities(ctx, nil)) },
		func() error { return e(c.GetOpportunity(ctx, "missing")) },
		func() error { return c.DeleteOpportunity(ctx, "missing") },
		func() error { return e(c.ListOpportunityUsers(ctx, nil)) },
		func() error {
			return e(c.CreateOpportunityUser(ctx, &siro.OpportunityUserParams{OpportunityID: "o", UserID: "u"}))
		},
		func() error { return e(c.GetOpportunityUser(ctx, "missing")) },
		func() error {
			return e(c.UpdateOpportunityUser(ctx, "missing", &siro.OpportunityUserParams{Name: "n"}))
		},
		func() error { return c.DeleteOpportunityUser(ctx, "missing") },
		func() error { return e(c.ListAccounts(ctx)) },
		func() error {
			return e(c.CreateAccount(ctx, &siro.AccountParams{ExternalID: "a", Latitude: &lat, Longitude: &lat}))
		},
		func() error { return e(c.GetAccount(ctx, "missing")) },
		func() error { return e(c.UpdateAccount(ctx, "missing", &siro.AccountParams{Name: "n"})) },
		func() error { return c.DeleteAccount(ctx, "missing") },
		func() error { return e(c.ListCRMUsers(ctx, nil)) },
		func() error { return e(c.GetCRMUser(ctx, "missing")) },
		func() error { return e(c.ListRecordings(ctx, nil)) },
		func() error { return e(c.GetRecording(ctx, "missing", nil)) },
		func() error { return e(c.GetRecordingSummaries(ctx, "missing")) },
		func() error { return e(c.ListMobileEvents(ctx, nil)) },
		func() error { return e(c.GetMobileEvent(ctx, "missing")) },
		func() error {
			return e(c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "a", Owner: "o", OrganizationID: "org"}))
		},
		func() error {
			return e(c.ListOAuthApps(ctx, &siro.ListOAuthAppsParams{OrganizationID: "org", Owner: "o"}))
		},
		func() error { return e(c.GetOAuthApp(ctx, "missing")) },
		func() error { return c.DeleteOAuthApp(ctx, "missing") },
		func() error {
			return e(c.CreateAccessToken(ctx, "missing", &siro.CreateAccessTokenParams{ClientSecret: "s", UserID: "u", Scope: siro.ScopeRead}))
		},
		func() error { return e(c.GetAccessToken(ctx, "missing", "missing")) },
		func() error {
			return e(c.ListAccessTokens(ctx, "missing", &siro.ListAccessTokensParams{Owner: "o"}))
		},
		func() error {
			return c.RevokeAccessToken(ctx, &siro.RevokeAccessTokenParams{ClientID: "missing", TokenID: "missing", ClientSecret: "s", UserID: "u"})
		},
		func() error { return e(c.CallerIdentity(ctx)) },
		func() error { return e(c.ListConnections(ctx, nil)) },
		func() error {
			return e(c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "n", IntegrationPlatform: siro.PlatformSpotio, ExternalAccountID: "x"}))
		},
		func() error { return e(c.GetConnection(ctx, "missing")) },
		func() error { return e(c.UpdateConnection(ctx, "missing", &siro.UpdateConnectionParams{})) },
		func() error { return e(c.DeleteConnection(ctx, "missing")) },
		func() error {
			return e3(c.UpsertSalesforce(ctx, &siro.SalesforceParams{Namespace: "n", OrgID: "o", InstanceURL: "https://x"}))
		},
		func() error { return e(c.GetRecordingDetails(ctx, "missing", nil)) },
		func() error { return e(c.GetUtterances(ctx, "missing", nil)) },
		func() error { return e(c.GetEntityExtractions(ctx, "missing")) },
		func() error { return e(c.LinkRecording(ctx, "missing", link)) },
		func() error { return c.UnlinkRecording(ctx, "missing", link) },
	}
}

// TestAnswersConformToSirosDocuments drives every typed operation through
// the fake with its answers validated against Siro's OpenAPI documents:
// the successes (TestEveryOperation's walk), then each operation's error
// answers (401, 429, 500, 503 and 422 injected, 404 where the fake has
// no such object), and checks that every operation the client types was
// validated on both hosts, request and answers.
func TestAnswersConformToSirosDocuments(t *testing.T) {
	ctx := context.Background()
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake, v := newFake(t, sirotest.WithClock(clk), sirotest.WithTokenTTL(time.Hour))
	walkEveryOperation(t, fake, clk)

	appID, appSecret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithClock(clk), siro.WithRetry(siro.RetryPolicy{}), siro.WithOAuthApp(appID, appSecret, "siro-user-1", siro.ScopeWrite))
	require.NoError(t, err)
	calls := everyCall(ctx, c)
	require.Len(t, calls, len(clientOperations), "one call per typed operation")
	_, _ = c.GetEntityExtractions(ctx, "warm-up") // mints the user token, so faults hit the calls themselves
	for _, status := range []int{401, 422, 429, 500, 503} {
		for _, call := range calls {
			fake.Fail("", status, 1)
			_ = call() // a 401 on the user host makes the client mint again and retry
		}
	}
	for _, call := range calls {
		_ = call() // natural answers to placeholder ids: 404s, 200s with an error inside, ...
	}
	// The org token is refused on the user host: a real 401.
	orgAsUser, err := siro.NewClient(siro.WithUserToken(fake.OrgToken), siro.WithUserBaseURL(fake.UserURL()), siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	_, err = orgAsUser.GetEntityExtractions(ctx, "r")
	require.ErrorIs(t, err, siro.ErrUnauthorized)

	requests, answers := map[string]bool{}, map[string]map[string]bool{}
	for _, k := range v.Requests() {
		requests[k] = true
	}
	for _, k := range v.Responses() {
		i := strings.LastIndexByte(k, ' ')
		op, status := k[:i], k[i+1:]
		if answers[op] == nil {
			answers[op] = map[string]bool{}
		}
		answers[op][status] = true
	}
	var org, user int
	for _, op := range clientOperations {
		ok := requests[op]
		assert.True(t, ok, "request of %s validated", op)
		var success bool
		for st := range answers[op] {
			success = success || st[0] == '2'
		}
		assert.True(t, success, "a success answer of %s validated", op)
		for _, st := range []string{"401", "422", "429", "500", "503"} {
			assert.True(t, answers[op][st], "the %s answer of %s validated", st, op)
		}
		if ok && success {
			if strings.HasPrefix(op, "org ") {
				org++
			} else {
				user++
			}
		}
	}
	n := 0
	for _, sts := range answers {
		n += len(sts)
	}
	t.Logf("validated against Siro's OpenAPI documents: %d of %d operations the client types (org host %d, user host %d): requests, success and error answers (%d operation/status pairs)",
		org+user, len(clientOperations), org, user, n)
	assert.Equal(t, len(clientOperations), org+user)
}
