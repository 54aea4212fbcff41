package siro_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
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
// The mint is held until every caller has decided, while it is in flight,
// whether to wait for it or start its own: the token cache (internal/core's
// RefreshingAuth.Token) reads the client's clock under its lock and decides
// before unlocking, and the mint cannot finish before it gets that lock.
func TestOAuthConcurrentCallersMintOnce(t *testing.T) {
	const callers = 30
	clk := &decisionClock{FakeClock: webhooktest.NewFakeClock(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)), want: callers, all: make(chan struct{})}
	var mints atomic.Int32
	release := make(chan struct{})
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			n := mints.Add(1)
			<-release // callers pile up on the one mint
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"accessTokenId":"t%d","accessToken":"tok-%d"}`, n, n)
			return
		}
		w.WriteHeader(404)
	}))
	defer org.Close()
	var freed sync.Once
	free := func() { freed.Do(func() { close(release) }) }
	var wg sync.WaitGroup
	defer func() { free(); wg.Wait() }() // on failure too, before org.Close waits for the held handlers
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"data":[]}`)) }))
	defer user.Close()
	c, err := siro.NewClient(siro.WithClock(clk), siro.WithOrgToken("o"), siro.WithOrgBaseURL(org.URL), siro.WithUserBaseURL(user.URL),
		siro.WithOAuthApp("cid", "sec", "u", siro.ScopeRead))
	require.NoError(t, err)
	for range callers {
		wg.Go(func() {
			_, err := c.GetEntityExtractions(context.Background(), "r1")
			assert.NoError(t, err)
		})
	}
	select {
	case <-clk.all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d callers reached the token cache (did RefreshingAuth.Token stop reading the clock?)", clk.n.Load(), callers)
	}
	free()
	wg.Wait()
	assert.Equal(t, int32(1), mints.Load())
}

// decisionClock is a fake clock that closes all once want reads came from
// the token cache's decision: (*RefreshingAuth).Token in internal/core
// reads the clock under its lock, then joins the fetch in flight or starts
// one.
type decisionClock struct {
	*webhooktest.FakeClock
	want int32
	n    atomic.Int32
	all  chan struct{}
}

func (c *decisionClock) Now() time.Time {
	if pc, _, _, ok := runtime.Caller(1); ok && strings.HasSuffix(runtime.FuncForPC(pc).Name(), "/internal/core.(*RefreshingAuth).Token") {
		if c.n.Add(1) == c.want {
			close(c.all)
		}
	}
	return c.FakeClock.Now()
}

// TestPublicErrorTypes: the errors of a call are this package's types,
// readable with errors.As, and still match the status sentinels.
func TestPublicErrorTypes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"message":"bad","issues":[{"path":["externalId"],"message":"Required","code":"invalid_type"}]}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL), siro.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEngagement(context.Background(), "e1")
	var se *siro.Error
	if !errors.As(err, &se) {
		t.Fatalf("errors.As(*siro.Error) failed on %T %v", err, err)
	}
	if se.StatusCode != 422 || se.Route != "/v1/integrations/engagements/{id}" || se.RequestID != "req-1" ||
		len(se.Issues) != 1 || se.Issues[0].PathString() != "externalId" {
		t.Fatalf("fields: %+v", se)
	}
	if !errors.Is(err, siro.ErrBadRequest) || errors.Is(err, siro.ErrNotFound) || se.Temporary() {
		t.Fatal("sentinels do not match the status")
	}

	srv.Close()
	_, err = c.GetEngagement(context.Background(), "e1")
	var re *siro.RequestError
	if !errors.As(err, &re) || re.Attempts != 1 {
		t.Fatalf("want *siro.RequestError after 1 attempt, got %T %v", err, err)
	}
}

// TestRetryDefaults: a partial policy is filled from DefaultRetry, and a
// really invalid one is refused naming the field.
func TestRetryDefaults(t *testing.T) {
	d := siro.DefaultRetry()
	if d.MaxRetries != 2 || d.BaseDelay != 500*time.Millisecond || d.MaxDelay != 30*time.Second {
		t.Fatalf("DefaultRetry = %+v", d)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`{"id":"e1"}`))
	}))
	defer srv.Close()
	var mu sync.Mutex
	var delays []time.Duration
	var infos []siro.RetryInfo
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL), siro.WithRetry(siro.RetryPolicy{
		MaxRetries: 5,
		Jitter: func(d time.Duration) time.Duration {
			mu.Lock()
			delays = append(delays, d)
			mu.Unlock()
			return 0
		},
		OnRetry: func(i siro.RetryInfo) { infos = append(infos, i) },
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEngagement(context.Background(), "e1"); err != nil {
		t.Fatal(err)
	}
	if len(delays) != 3 || delays[0] != 500*time.Millisecond || delays[1] != time.Second {
		t.Fatalf("backoffs %v: BaseDelay was not filled from DefaultRetry", delays)
	}
	var se *siro.Error
	if len(infos) != 3 || !errors.As(infos[0].Err, &se) || se.StatusCode != 502 {
		t.Fatalf("OnRetry infos %+v", infos)
	}

	for _, tc := range []struct {
		opt  siro.Option
		want string
	}{
		{siro.WithRetry(siro.RetryPolicy{MaxRetries: 1, BaseDelay: 2 * time.Second, MaxDelay: time.Second}), "siro: WithRetry: MaxDelay 1s is below BaseDelay 2s"},
		{siro.WithRetry(siro.RetryPolicy{MaxRetries: -1}), "siro: WithRetry: MaxRetries -1 is negative"},
		{siro.WithMaxRetries(-2), "siro: WithMaxRetries: -2 is negative"},
		{siro.WithOrgToken(" "), "siro: WithOrgToken: token is empty"},
		{siro.WithOrgBaseURL("ftp://x"), `siro: WithOrgBaseURL: base URL "ftp://x" must start with http:// or https://`},
	} {
		_, err := siro.NewClient(tc.opt)
		if err == nil || err.Error() != tc.want || !errors.Is(err, siro.ErrInvalidOption) {
			t.Errorf("got %v, want %q matching ErrInvalidOption", err, tc.want)
		}
	}
	// A partial policy with only BaseDelay above the default cap gets a
	// MaxDelay of at least BaseDelay.
	if _, err := siro.NewClient(siro.WithRetry(siro.RetryPolicy{MaxRetries: 1, BaseDelay: time.Minute})); err != nil {
		t.Fatal(err)
	}
}

// TestHandlerErrorPrefix: one prefix naming the constructor; a single
// secret is "secret".
func TestHandlerErrorPrefix(t *testing.T) {
	_, err := siro.NewHandler([]string{""}, siro.Callbacks{})
	if err == nil || err.Error() != "siro: NewHandler: secret is empty" {
		t.Fatalf("got %v", err)
	}
}

// TestResponseTimesAndDeletes: answer timestamps decode to time.Time
// leniently (an odd value keeps its text), and a delete Siro answers false
// is an error.
func TestResponseTimesAndDeletes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			_, _ = w.Write([]byte(`false`))
			return
		}
		_, _ = w.Write([]byte(`{"id":"e1","startTime":"2026-03-01T09:30:00.000Z","endTime":"2026-03-01 10:00:00","createdAt":"soon","updatedAt":null}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.GetEngagement(context.Background(), "e1")
	if err != nil {
		t.Fatal(err)
	}
	if !e.StartTime.Equal(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) || !e.EndTime.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("times: %v %v", e.StartTime, e.EndTime)
	}
	if !e.CreatedAt.Unparsed() || e.CreatedAt.Raw != "soon" || !e.UpdatedAt.IsZero() || e.UpdatedAt.Unparsed() {
		t.Fatalf("odd values: %+v %+v", e.CreatedAt, e.UpdatedAt)
	}
	if err := c.DeleteEngagement(context.Background(), "e1", nil); err == nil {
		t.Fatal("a false delete answer is not an error")
	}
	if v := siro.Ptr(45000.0); *v != 45000 {
		t.Fatal("Ptr")
	}
}
