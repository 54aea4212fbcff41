package siro_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedirectRefusedForBothSiroClients: neither the user token
// (x-siro-auth-token, which net/http forwards across hosts) nor the OAuth
// client secret in a replayed POST body reaches another host.
func TestRedirectRefusedForBothSiroClients(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		_, _ = w.Write([]byte(`{"accessTokenId":"x","accessToken":"y","data":{}}`))
	}))
	defer other.Close()
	for _, code := range []int{302, 307, 308} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		}))
		c, err := siro.NewClient(siro.WithOrgToken("org-token"), siro.WithUserToken("user-token"),
			siro.WithOrgBaseURL(srv.URL), siro.WithUserBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = c.GetRecordingDetails(context.Background(), "rec_1", nil)
		assert.ErrorIs(t, err, siro.ErrRedirectRefused, "user API, %d", code)
		_, err = c.CreateAccessToken(context.Background(), "app_1", &siro.CreateAccessTokenParams{ClientSecret: "client-secret", UserID: "u", Scope: siro.ScopeRead})
		assert.ErrorIs(t, err, siro.ErrRedirectRefused, "org API POST, %d", code)
		var re *siro.RequestError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), other.URL)
		srv.Close()
	}
	assert.Zero(t, leaked.Load(), "nothing reached the other host")
}

// TestGettersNeverReturnNilNil: a 200 with an empty or null body, a 204,
// or {"data":null} is a DecodeError, never a nil result with a nil error.
func TestGettersNeverReturnNilNil(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"empty 200":   func(w http.ResponseWriter) { w.WriteHeader(200) },
		"null":        func(w http.ResponseWriter) { _, _ = w.Write([]byte("null")) },
		"204":         func(w http.ResponseWriter) { w.WriteHeader(204) },
		"data null":   func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"data":null}`)) },
		"no data key": func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{}`)) },
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w) }))
			defer srv.Close()
			c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithUserToken("u"), siro.WithOrgBaseURL(srv.URL), siro.WithUserBaseURL(srv.URL))
			require.NoError(t, err)
			ctx := context.Background()
			getters := map[string]func() (any, error){
				"GetEngagement":       func() (any, error) { return c.GetEngagement(ctx, "e") },
				"GetEngagementUser":   func() (any, error) { return c.GetEngagementUser(ctx, "e") },
				"GetOpportunity":      func() (any, error) { return c.GetOpportunity(ctx, "o") },
				"GetOpportunityUser":  func() (any, error) { return c.GetOpportunityUser(ctx, "o") },
				"GetAccount":          func() (any, error) { return c.GetAccount(ctx, "a") },
				"GetConnection":       func() (any, error) { return c.GetConnection(ctx, "c") },
				"GetRecording":        func() (any, error) { return c.GetRecording(ctx, "r", nil) },
				"GetMobileEvent":      func() (any, error) { return c.GetMobileEvent(ctx, "m") },
				"GetOAuthApp":         func() (any, error) { return c.GetOAuthApp(ctx, "a") },
				"GetAccessToken":      func() (any, error) { return c.GetAccessToken(ctx, "a", "t") },
				"GetRecordingDetails": func() (any, error) { return c.GetRecordingDetails(ctx, "r", nil) },
				"GetCRMUser":          func() (any, error) { return c.GetCRMUser(ctx, "u") },
				"CallerIdentity":      func() (any, error) { return c.CallerIdentity(ctx) },
			}
			for op, get := range getters {
				if name == "no data key" && !strings.HasPrefix(op, "Get") {
					continue
				}
				v, err := get()
				if err == nil {
					// A bare-object getter may decode {} into an empty object:
					// never nil with a nil error.
					require.NotNil(t, v, op)
					assert.False(t, isNilValue(v), "%s returned a nil result with a nil error", op)
					continue
				}
				var de *siro.DecodeError
				assert.ErrorAs(t, err, &de, op)
			}
		})
	}
}

func isNilValue(v any) bool {
	switch x := v.(type) {
	case *siro.Engagement:
		return x == nil
	case *siro.EngagementUser:
		return x == nil
	case *siro.Opportunity:
		return x == nil
	case *siro.OpportunityUser:
		return x == nil
	case *siro.Account:
		return x == nil
	case *siro.IntegrationConnection:
		return x == nil
	case *siro.Recording:
		return x == nil
	case *siro.MobileEvent:
		return x == nil
	case *siro.OAuthApp:
		return x == nil
	case *siro.OAuthTokenInfo:
		return x == nil
	case *siro.RecordingDetails:
		return x == nil
	case *siro.OrgToken:
		return x == nil
	case json.RawMessage:
		return len(x) == 0 || string(x) == "null"
	}
	return v == nil
}

// TestWaitForRecordingEmptyAnswerDoesNotPanic: an engagement answered with
// an empty body is an error to wait through, not a nil dereference.
func TestWaitForRecordingEmptyAnswerDoesNotPanic(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			_, _ = w.Write([]byte("null"))
			return
		}
		_, _ = w.Write([]byte(`{"id":"eng_1","recordingId":"rec_1"}`))
	}))
	defer srv.Close()
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(srv.URL), siro.WithClock(clk))
	require.NoError(t, err)
	go func() {
		if clk.BlockUntilWaiters(1, 5*time.Second) {
			clk.Advance(time.Minute)
		}
	}()
	e, err := c.WaitForRecording(context.Background(), "eng_1", &siro.PollOptions{Interval: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, "rec_1", e.RecordingID)
}

// TestAllConnectionsStopsWhenCursorIgnored: if Siro ignores the cursor
// (the spec does not declare one) and answers the same page, the pager
// stops instead of yielding that page twice.
func TestAllConnectionsStopsWhenCursorIgnored(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"data":[{"id":"c1"},{"id":"c2"}],"cursor":"next-1"}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(srv.URL))
	require.NoError(t, err)
	var ids []string
	for conn, err := range c.AllConnections(context.Background(), nil) {
		require.NoError(t, err)
		ids = append(ids, conn.ID)
	}
	assert.Equal(t, []string{"c1", "c2"}, ids, "each connection once")
	assert.Equal(t, int32(2), hits.Load())
}

// TestAllConnectionsCursorCycleIsAnError: cursors that cycle (A, B, A)
// end the iterator with siro.ErrCursorLoop after every connection was
// yielded once, instead of looping or ending as if the list were whole.
func TestAllConnectionsCursorCycleIsAnError(t *testing.T) {
	pages := map[string]string{
		"":  `{"data":[{"id":"c1"}],"cursor":"A"}`,
		"A": `{"data":[{"id":"c2"}],"cursor":"B"}`,
		"B": `{"data":[{"id":"c3"}],"cursor":"A"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(pages[r.URL.Query().Get("cursor")]))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(srv.URL))
	require.NoError(t, err)
	var ids []string
	var last error
	for conn, err := range c.AllConnections(context.Background(), nil) {
		if err != nil {
			last = err
			continue
		}
		ids = append(ids, conn.ID)
	}
	assert.Equal(t, []string{"c1", "c2", "c3"}, ids)
	require.ErrorIs(t, last, siro.ErrCursorLoop)
}

// TestSiroSecretTypesFormatRedacted: %#v (GoString) and every other verb
// of a secret-holding type never print the secret.
func TestSiroSecretTypesFormatRedacted(t *testing.T) {
	const secret = "very-secret-value"
	testkit.FormatsRedacted(t, secret,
		siro.Token{Value: secret}, &siro.Token{Value: secret},
		siro.AccessToken{AccessTokenID: "id", AccessToken: secret}, &siro.AccessToken{AccessToken: secret},
		siro.NewOAuthApp{ClientSecret: secret}, siro.CreateAccessTokenParams{ClientSecret: secret},
		siro.SalesforceParams{RefreshToken: secret}, mustClient(t, siro.WithOrgToken(secret), siro.WithUserToken(secret)),
	)
}

// TestOAuthSecretRedactedFromEchoedError: a 400 echoing the access-token
// request body does not put the client secret into the error.
func TestOAuthSecretRedactedFromEchoedError(t *testing.T) {
	const secret = "oauth-client-secret-123"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "Bad Request - invalid body " + string(b), "details": json.RawMessage(b)})
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.CreateAccessToken(context.Background(), "app", &siro.CreateAccessTokenParams{ClientSecret: secret, UserID: "u", Scope: siro.ScopeRead})
	var apiErr *siro.Error
	require.ErrorAs(t, err, &apiErr)
	for what, s := range map[string]string{"Error": err.Error(), "Body": string(apiErr.Body), "Message": apiErr.Message, "Details": string(apiErr.Details)} {
		assert.NotContains(t, s, secret, what)
	}
	err = c.RevokeAccessToken(context.Background(), &siro.RevokeAccessTokenParams{ClientID: "app", TokenID: "tok", ClientSecret: secret, UserID: "u"})
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, string(apiErr.Body), secret)
}

func mustClient(t *testing.T, opts ...siro.Option) *siro.Client {
	t.Helper()
	c, err := siro.NewClient(opts...)
	require.NoError(t, err)
	return c
}

// TestOAuthTokenInsideMarginMintedOnce: when Siro reports an expiresAt
// inside the 2-minute refresh margin, 20 calls share one mint (not 20), and
// a user API answering 401 forever costs a bounded number of mints.
func TestOAuthTokenInsideMarginMintedOnce(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	var mints atomic.Int32
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			n := mints.Add(1)
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"accessTokenId":"tok-%d","accessToken":"access-%d"}`, n, n)
			return
		}
		fmt.Fprintf(w, `{"data":{"expiresAt":%q}}`, clk.Now().Add(time.Minute).Format(time.RFC3339))
	}))
	defer org.Close()
	var reject atomic.Bool
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reject.Load() {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	defer user.Close()
	c, err := siro.NewClient(siro.WithClock(clk), siro.WithOrgToken("o"), siro.WithOrgBaseURL(org.URL), siro.WithUserBaseURL(user.URL),
		siro.WithOAuthApp("cid", "secret", "user", siro.ScopeRead))
	require.NoError(t, err)
	call := func() error {
		return c.Do(context.Background(), siro.UserAPI, "GET", "/v1/core/recordings/{id}", []string{"r"}, nil, nil, nil)
	}
	for i := 0; i < 20; i++ {
		require.NoError(t, call())
	}
	assert.Equal(t, int32(1), mints.Load(), "20 calls, one mint")

	reject.Store(true)
	for i := 0; i < 20; i++ {
		assert.ErrorIs(t, call(), siro.ErrUnauthorized)
	}
	assert.LessOrEqual(t, mints.Load(), int32(4), "401 forever: minting backs off")
}

// TestSentinelsAreThisPackages: siro's sentinels are its own values (not
// the internal HTTP layer's, which go doc cannot show), and every path an
// error takes out of the client matches them with errors.Is.
func TestSentinelsAreThisPackages(t *testing.T) {
	status := 404
	body := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithOrgBaseURL(srv.URL), siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.GetEngagement(ctx, "e")
	assert.ErrorIs(t, err, siro.ErrNotFound)
	assert.NotErrorIs(t, err, siro.ErrServer)
	var apiErr *siro.Error
	assert.ErrorAs(t, err, &apiErr)

	status, body = 500, `{"error":"boom"}`
	_, err = c.GetEngagement(ctx, "e")
	assert.ErrorIs(t, err, siro.ErrServer)
	assert.NotErrorIs(t, err, siro.ErrNotFound)

	status, body = 200, ""
	_, err = c.GetEngagement(ctx, "e")
	assert.ErrorIs(t, err, siro.ErrEmptyBody)
	var de *siro.DecodeError
	assert.ErrorAs(t, err, &de)

	_, err = c.GetEngagement(ctx, "")
	assert.ErrorIs(t, err, siro.ErrInvalidRequest, "an empty path parameter")

	_, err = c.GetRecordingDetails(ctx, "r", nil)
	assert.ErrorIs(t, err, siro.ErrMissingCredential, "a user API call without a user credential")

	_, err = siro.NewClient(siro.WithOrgBaseURL("ftp://x"))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = siro.NewClient(siro.WithRetry(siro.RetryPolicy{BaseDelay: 2 * time.Second, MaxDelay: time.Second}))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	assert.EqualError(t, err, "siro: WithRetry: MaxDelay 1s is below BaseDelay 2s")
}

// A nil option is bad input: an error naming it, never a panic.
func TestNewClientNilOption(t *testing.T) {
	_, err := siro.NewClient(siro.WithOrgToken("tok"), nil)
	testkit.CheckInvalidOption(t, "NewClient", err, siro.ErrInvalidOption, "option 1 is nil")
}
