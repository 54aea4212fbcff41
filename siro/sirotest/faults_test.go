package sirotest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get sends one raw request to the fake and returns the answer.
func get(t *testing.T, method, url, auth string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"name":"Acme"}`)
	}
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestFaultsAnswerAsDocumented: an injected fault answers with the
// operation's documented content type, and with no Retry-After unless
// asked, since Siro sends none.
func TestFaultsAnswerAsDocumented(t *testing.T) {
	fake, _ := newFake(t)
	c, err := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	ctx := context.Background()

	fake.Fail("POST /v1/core/integrations/connections", 409, 1)
	_, err = c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "crm", IntegrationPlatform: siro.PlatformSiroCustomInput, ExternalAccountID: "a"})
	require.ErrorIs(t, err, siro.ErrConflict)

	fake.Fail("GET /v1/core/integrations/connections/", 404, 1)
	resp, body := get(t, "GET", fake.OrgURL()+"/v1/core/integrations/connections/ic_1", fake.OrgToken)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"), "Siro documents this 404 as text/plain")
	assert.NotContains(t, body, "{")

	fake.Fail("/v1/integrations/engagements", 404, 1)
	resp, _ = get(t, "GET", fake.OrgURL()+"/v1/integrations/engagements/x", fake.OrgToken)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "documented as JSON")

	fake.Fail("", 429, 1)
	resp, body = get(t, "GET", fake.OrgURL()+"/v1/integrations/engagements", fake.OrgToken)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "Rate limit exceeded", body)
	assert.Empty(t, resp.Header.Get("Retry-After"), "Siro sends no Retry-After")

	fake.Fail("", 503, 1, sirotest.RetryAfter(3*time.Second))
	resp, _ = get(t, "GET", fake.OrgURL()+"/v1/integrations/engagements", fake.OrgToken)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"), "asked for")

	// A method in the route: a GET does not consume a PUT fault.
	fake.Fail("PUT /v1/integrations/sync/engagements", 500, 1)
	_, err = c.ListEngagements(ctx, nil)
	require.NoError(t, err)
	_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "e1"})
	require.ErrorIs(t, err, siro.ErrServer)
}

// TestDocumentedButNotServedIs501: Do on an operation Siro documents but
// the fake does not serve says so, instead of Siro's "not defined" 404.
func TestDocumentedButNotServedIs501(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	err = c.Do(context.Background(), siro.OrgAPI, "GET", "/v1/core/organizations/{orgId}/teams/{teamId}", []string{"o", "t"}, nil, nil, nil)
	var apiErr *siro.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	assert.Equal(t, 501, apiErr.StatusCode)
	assert.Contains(t, apiErr.Error(), "not served by this fake")

	err = c.Do(context.Background(), siro.OrgAPI, "GET", "/v1/no/such/route", nil, nil, nil, nil)
	require.ErrorIs(t, err, siro.ErrNotFound)
}

// TestSenderReplaysOneMessageToTwoReplicas: the same Siro message sent to
// two replicas sharing a dedupe store is processed once; a different
// message is processed too.
func TestSenderReplaysOneMessageToTwoReplicas(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	store, err := webhook.NewMemoryDedupe(time.Hour)
	require.NoError(t, err)
	var runs int
	newReplica := func() http.Handler {
		h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{RecordingProcessed: func(context.Context, *siro.RecordingEvent) error {
			runs++
			return nil
		}}, webhook.WithDedupe(store))
		require.NoError(t, err)
		return h
	}
	a, b := newReplica(), newReplica()
	snd := fake.Sender()
	body := []byte(`{"recordingId":"r1","siroUserId":"u","recordingProcessed":true,"recordingLinked":false,"eventType":"integrations.recordingProcessed"}`)
	assert.Equal(t, snd.Sign(body).Get("Svix-Id"), snd.Sign(body).Get("Svix-Id"), "one body, one message id")
	assert.Equal(t, sirotest.MessageID(body), snd.Sign(body).Get("Svix-Id"))
	assert.Equal(t, 200, snd.Serve(a, body))
	assert.Equal(t, 200, snd.Serve(b, body))
	assert.Equal(t, 1, runs, "the same message reached both replicas and ran once")
	other := []byte(strings.Replace(string(body), "r1", "r2", 1))
	assert.Equal(t, 200, snd.Serve(b, other))
	assert.Equal(t, 2, runs)
	assert.Len(t, snd.Schedule(), 8, "Svix's schedule")
}

// TestFailRejectsAnInvalidStatus: a status net/http cannot write (or a
// negative count) is an error from Fail, and the fake keeps serving: it
// used to add the rule, and the handler panicked writing status 0,
// dropping the connection.
func TestFailRejectsAnInvalidStatus(t *testing.T) {
	fake, _ := newFake(t)
	for _, st := range []int{0, 99, 600, -1} {
		err := fake.Fail("", st, 1)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("status %d ", st)) {
			t.Fatalf("Fail(status %d) = %v, want an error naming it", st, err)
		}
	}
	if err := fake.Fail("", 503, -1); err == nil {
		t.Fatal("Fail with a negative count: no error")
	}
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncEngagement(context.Background(), &siro.SyncEngagement{ExternalID: "appt-1"}); err != nil {
		t.Fatalf("a rejected Fail left a rule behind: %v", err)
	}
}
