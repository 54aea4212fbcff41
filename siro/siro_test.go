package siro_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyncEngagementRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		_, _ = w.Write([]byte(`{"data":{"id":"eng_1","externalId":"appt-1001","engagementType":"Kitchen Remodel Consultation","organizationId":"org_1","createdAt":"2024-06-01T10:00:00.000Z","updatedAt":"2024-06-01T10:00:00.000Z","opportunityId":"opp_1"}}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("org-token"), siro.WithOrgBaseURL(srv.URL+"/api-externalApi"))
	require.NoError(t, err)
	start := time.Date(2024, 6, 1, 14, 0, 0, 0, time.UTC)
	zero := 0.0
	e, err := c.SyncEngagement(context.Background(), &siro.SyncEngagement{
		ExternalID: "appt-1001", Subject: "Kitchen remodel", StartTime: siro.At(start), EndTime: siro.At(start.Add(time.Hour)),
		EngagementType:  &siro.EngagementType{Name: "Kitchen Remodel Consultation", ActivityType: siro.ActivityAppointment},
		EngagementUsers: []siro.SyncUser{{ExternalID: "rep-7", ShareOfSale: &zero}},
		Opportunity:     &siro.SyncEngagementOpportunity{ExternalID: "opp-2001", Disposition: siro.DispositionOpen},
	})
	require.NoError(t, err)
	assert.Equal(t, "PUT", got.Method)
	assert.Equal(t, "/api-externalApi/v1/integrations/sync/engagements", got.URL.Path)
	assert.Equal(t, "Bearer org-token", got.Header.Get("Authorization"))
	assert.Empty(t, got.Header.Get("x-siro-auth-token"))
	assert.Contains(t, got.Header.Get("User-Agent"), "callcrm-go/")
	assert.JSONEq(t, `{"externalId":"appt-1001","subject":"Kitchen remodel","startTime":"2024-06-01T14:00:00.000Z","endTime":"2024-06-01T15:00:00.000Z",
		"engagementType":{"name":"Kitchen Remodel Consultation","activityType":"APPOINTMENT"},
		"engagementUsers":[{"externalId":"rep-7","shareOfSale":0}],
		"opportunity":{"externalId":"opp-2001","disposition":"OPEN"}}`, string(body))
	assert.Equal(t, "eng_1", e.ID)
	assert.Equal(t, "opp_1", e.OpportunityID)
}

func TestSyncValidationBeforeRequest(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("t"), siro.WithOrgBaseURL(srv.URL))
	require.NoError(t, err)
	now := time.Now()
	for _, e := range []*siro.SyncEngagement{
		nil, {}, {ExternalID: "a", StartTime: siro.At(now), EndTime: siro.At(now.Add(-time.Minute))},
		{ExternalID: "a", EngagementType: &siro.EngagementType{Name: "x"}},
		{ExternalID: "a", EngagementUsers: []siro.SyncUser{{}}},
	} {
		_, err := c.SyncEngagement(context.Background(), e)
		assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	}
	_, err = c.SyncEngagements(context.Background(), []siro.SyncEngagement{{ExternalID: "ok"}, {}})
	assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "[1]")
	assert.Zero(t, hits.Load())

	// No credential for the host: fails before any request, naming it.
	noOrg, err := siro.NewClient(siro.WithOrgBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = noOrg.SyncEngagement(context.Background(), &siro.SyncEngagement{ExternalID: "a"})
	assert.ErrorIs(t, err, siro.ErrMissingCredential)
	assert.Contains(t, err.Error(), "org token")
	err = noOrg.Do(context.Background(), siro.UserAPI, "GET", "/v1/core/recordings/{id}", []string{"r1"}, nil, nil, nil)
	assert.ErrorIs(t, err, siro.ErrMissingCredential)
	assert.Contains(t, err.Error(), "user access token")
	assert.Zero(t, hits.Load())

	_, err = siro.NewClient(siro.WithOAuthApp("cid", "secret", "user", siro.ScopeRead))
	assert.ErrorIs(t, err, siro.ErrInvalidOption, "minting needs the org token")
	_, err = siro.NewClient(siro.WithOAuthApp("cid", "secret", "user", "admin"))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
}

func TestBatchAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in []map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		if len(in) == 3 {
			w.WriteHeader(422)
			_, _ = w.Write([]byte(`{"issues":[{"code":"invalid_type","path":[2,"externalId"],"message":"Required"}],"name":"ZodError"}`))
			return
		}
		out := []map[string]string{}
		for _, e := range in {
			out = append(out, map[string]string{"id": "s_" + e["externalId"].(string), "externalId": e["externalId"].(string)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": out})
	}))
	defer srv.Close()
	c, _ := siro.NewClient(siro.WithOrgToken("t"), siro.WithOrgBaseURL(srv.URL))
	got, err := c.SyncEngagements(context.Background(), []siro.SyncEngagement{{ExternalID: "a"}, {ExternalID: "b"}})
	require.NoError(t, err)
	assert.Equal(t, "s_b", got[1].ID)
	_, err = c.SyncEngagements(context.Background(), []siro.SyncEngagement{{ExternalID: "a"}, {ExternalID: "b"}, {ExternalID: "c"}})
	require.ErrorIs(t, err, siro.ErrBadRequest)
	var se *siro.Error
	require.ErrorAs(t, err, &se)
	require.Len(t, se.Issues, 1)
	assert.Equal(t, "[2].externalId", se.Issues[0].PathString())
}

// TestOAuthTokenSource: the client mints a user token through the org API,
// uses Siro's reported expiry, refreshes near it, re-mints on 401, and never
// leaks the org token, client secret or access tokens into logs or errors.
func TestOAuthTokenSource(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	var mints atomic.Int32
	var revoked atomic.Value
	revoked.Store("")
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer org-SECRET-token", r.Header.Get("Authorization"))
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/core/oauth/apps/cid-1/access-token":
			var in map[string]string
			_ = json.NewDecoder(r.Body).Decode(&in)
			assert.Equal(t, map[string]string{"clientSecret": "client-SECRET", "userId": "siro-user-1", "scope": "read"}, in)
			n := mints.Add(1)
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"accessTokenId":"tok-%d","accessToken":"access-SECRET-%d"}`, n, n)
		case r.Method == "GET" && r.URL.Path == "/v1/core/oauth/apps/cid-1/access-token/tok-1":
			fmt.Fprintf(w, `{"data":{"id":"tok-1","expiresAt":%q}}`, clk.Now().Add(time.Hour).Format(time.RFC3339))
		default:
			w.WriteHeader(404) // tok-2's metadata: the client falls back to 16 h
		}
	}))
	defer org.Close()
	var userHits atomic.Int32
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userHits.Add(1)
		tok := r.Header.Get("x-siro-auth-token")
		assert.Empty(t, r.Header.Get("Authorization"), "never a Bearer header on the user API")
		if tok == revoked.Load() {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"Unauthorized - User not authenticated"}`))
			return
		}
		fmt.Fprintf(w, `{"data":{"token":%q}}`, tok)
	}))
	defer user.Close()
	var logs bytes.Buffer
	c, err := siro.NewClient(siro.WithClock(clk), siro.WithOrgToken("org-SECRET-token"), siro.WithOrgBaseURL(org.URL),
		siro.WithUserBaseURL(user.URL), siro.WithOAuthApp("cid-1", "client-SECRET", "siro-user-1", siro.ScopeRead),
		siro.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	get := func() string {
		var out struct {
			Data struct{ Token string } `json:"data"`
		}
		require.NoError(t, c.Do(context.Background(), siro.UserAPI, "GET", "/v1/core/recordings/{id}", []string{"rec_1"}, nil, nil, &out))
		return out.Data.Token
	}
	assert.Equal(t, "access-SECRET-1", get())
	assert.Equal(t, "access-SECRET-1", get())
	assert.Equal(t, int32(1), mints.Load(), "cached")
	clk.Advance(59 * time.Minute) // inside the refresh margin of the reported 1 h expiry
	assert.Equal(t, "access-SECRET-2", get())
	revoked.Store("access-SECRET-2")
	assert.Equal(t, "access-SECRET-3", get(), "401: re-minted and replayed once")
	assert.Equal(t, int32(3), mints.Load())

	// A user API error: no secret in it, nor in any log line.
	revoked.Store("access-SECRET-3")
	mintsBefore := mints.Load()
	org.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	err = c.Do(context.Background(), siro.UserAPI, "GET", "/v1/core/recordings/{id}", []string{"rec_1"}, nil, nil, nil)
	require.Error(t, err)
	assert.Equal(t, mintsBefore, mints.Load())
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()} {
		for _, secret := range []string{"org-SECRET-token", "client-SECRET", "access-SECRET"} {
			assert.NotContains(t, s, secret)
		}
	}
	assert.NotEmpty(t, logs.String())
}

// TestOAuthConcurrentCallersMintOnce: many concurrent calls share one mint.
func TestOAuthConcurrentCallersMintOnce(t *testing.T) {
	var mints atomic.Int32
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			time.Sleep(20 * time.Millisecond) // callers pile up on the one mint
			n := mints.Add(1)
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"accessTokenId":"t%d","accessToken":"tok-%d"}`, n, n)
			return
		}
		w.WriteHeader(404)
	}))
	defer org.Close()
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"data":[]}`)) }))
	defer user.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(org.URL), siro.WithUserBaseURL(user.URL),
		siro.WithOAuthApp("cid", "sec", "u", siro.ScopeRead))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetEntityExtractions(context.Background(), "r1")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), mints.Load())
}
