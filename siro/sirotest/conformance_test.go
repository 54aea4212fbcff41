package sirotest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
