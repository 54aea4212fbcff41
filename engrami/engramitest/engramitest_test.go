package engramitest_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends a raw POST to path under /api/v1 with the fake's token and
// returns status and decoded top-level keys.
func post(t *testing.T, fake *engramitest.Server, path, body string) (int, map[string]json.RawMessage) {
	t.Helper()
	st, _, b := send(t, fake, "POST", "/api/v1"+path, fake.Token, body)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return st, m
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDocumentedShapes checks the answers document 003 (Engrami's custom
// integrations page) shows, key for key.
func TestDocumentedShapes(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	st, m := post(t, fake, "/webhooks/incoming", `{"name":"CRM Lead Webhook","agent_id":"agent_sales","transform":{"message":"$.data.description"}}`)
	assert.Equal(t, 201, st)
	assert.Equal(t, []string{"id", "secret", "url"}, keys(m))
	assert.True(t, strings.HasPrefix(string(m["id"]), `"wh_in_`))
	assert.True(t, strings.HasPrefix(string(m["secret"]), `"whsec_`))

	st, _ = post(t, fake, "/tools", `{"name":"lookup_customer","description":"d","parameters":{"type":"object"},"endpoint":{"url":"https://x","method":"POST"}}`)
	assert.Equal(t, 201, st)
	require.NoError(t, fake.SetToolResult("lookup_customer", map[string]string{"name": "Test User", "status": "active"}))
	st, m = post(t, fake, "/tools/lookup_customer/test", `{"parameters":{"identifier":"test@example.com"}}`)
	assert.Equal(t, 200, st)
	assert.Equal(t, []string{"response", "response_time_ms", "success"}, keys(m))
	assert.JSONEq(t, `{"name":"Test User","status":"active"}`, string(m["response"]))

	// The overview's error envelope, with details naming the field.
	st, m = post(t, fake, "/secrets", `{"name":"CRM_API_KEY"}`)
	assert.Equal(t, 400, st)
	assert.JSONEq(t, `false`, string(m["success"]))
	assert.JSONEq(t, `{"code":"invalid_request","message":"missing required field","details":{"field":"value","reason":"missing_required_field"}}`, string(m["error"]))

	// Undocumented answers echo the definition, never a secret.
	st, m = post(t, fake, "/integrations/oauth/providers", `{"name":"custom_crm","display_name":"Custom CRM","authorization_url":"a","token_url":"t","client_id":"id","client_secret":"SECRET","redirect_uri":"r"}`)
	assert.Equal(t, 201, st)
	assert.NotContains(t, keys(m), "client_secret")
	st, m = post(t, fake, "/secrets", `{"name":"CRM_API_KEY","value":"sk_live_SECRET"}`)
	assert.Equal(t, 201, st)
	assert.Equal(t, []string{"name"}, keys(m))
}

func TestEnvelopeOption(t *testing.T) {
	fake := engramitest.New(engramitest.WithEnvelope())
	defer fake.Close()
	st, m := post(t, fake, "/webhooks/incoming", `{"name":"n","agent_id":"a","transform":{"message":"$.x"}}`)
	assert.Equal(t, 201, st)
	assert.Equal(t, []string{"data", "success"}, keys(m))
	// The client decodes both forms.
	c, err := fake.Client(engrami.WithTenantID("t1"))
	require.NoError(t, err)
	hook, err := c.CreateIncomingWebhook(context.Background(), &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.x"}})
	require.NoError(t, err)
	assert.NotEmpty(t, hook.Secret)
}

func TestClientFaultsAndRateLimits(t *testing.T) {
	ctx := context.Background()
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC))
	fake := engramitest.New(engramitest.WithClock(clk), engramitest.WithRateLimit(2), engramitest.WithToken("tok"))
	defer fake.Close()
	c, err := fake.Client(engrami.WithRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)
	require.NoError(t, c.CreateSecret(ctx, &engrami.SecretParams{Name: "A", Value: "1"}))

	fake.Fail("/api/v1/secrets", 500, 1)
	err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "B", Value: "2"})
	var e *engrami.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 500, e.StatusCode)
	assert.Equal(t, "internal_error", e.Code)

	// Two requests spent the budget of 2 a minute: the third is limited.
	err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "C", Value: "3"})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 429, e.StatusCode)
	rl, ok := c.RateLimit()
	require.True(t, ok)
	assert.Equal(t, 2, rl.Limit)
	assert.Equal(t, time.Date(2026, 11, 24, 9, 1, 0, 0, time.UTC).Unix(), rl.Reset.Unix())
	clk.Advance(time.Minute)
	require.NoError(t, c.CreateSecret(ctx, &engrami.SecretParams{Name: "C", Value: "3"}), "a new minute, a new budget")
	v, _ := fake.Secret("C")
	assert.Equal(t, "3", v)
}

// TestFailReachesEveryURL: Fail has sirotest's semantics (documented path,
// optional method) and reaches the incoming-webhook URLs too.
func TestFailReachesEveryURL(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client(engrami.WithRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.x"}})
	require.NoError(t, err)
	s, err := engrami.NewSender(hook.URL, hook.Secret, engrami.WithSenderRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)

	fake.Fail("POST /in/", 503, 1, engramitest.RetryAfter(2*time.Second))
	err = s.Send(ctx, map[string]any{"x": "first"})
	require.Error(t, err, "the injected 503 reaches the incoming-webhook URL")
	require.NoError(t, s.Send(ctx, map[string]any{"x": "second"}))
	assert.Len(t, fake.Received(hook.ID), 1, "only the second was received")

	fake.Fail("GET /api/v1/secrets", 500, 1) // a POST does not consume it
	require.NoError(t, c.CreateSecret(ctx, &engrami.SecretParams{Name: "A", Value: "1"}))
	fake.Fail("", 429, 1)
	st, h, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, `{"name":"B","value":"2"}`)
	assert.Equal(t, 429, st)
	assert.Empty(t, h.Get("Retry-After"), "none unless asked")
}

// TestNewSenderIsTheSenderEveryFakeReturns: engramitest has a NewSender
// returning the *webhooktest.Sender every vendor's test package returns
// (webhooktest.Sender's doc names it among the five), signing as
// engrami.Sender does, so the fake's incoming-webhook URL takes its
// deliveries and refuses a tampered one.
func TestNewSenderIsTheSenderEveryFakeReturns(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client()
	require.NoError(t, err)
	ctx := context.Background()
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a",
		Transform: engrami.Transform{Message: "$.m"}})
	require.NoError(t, err)

	snd, err := engramitest.NewSender(hook.Secret)
	require.NoError(t, err)
	body := []byte(`{"m":"hello"}`)
	sdk, err := engrami.NewSender(hook.URL, hook.Secret)
	require.NoError(t, err)
	assert.Equal(t, sdk.Sign(body), snd.Sign(body).Get(engrami.HeaderSignature), "signed as engrami.Sender signs")
	assert.Equal(t, "application/json", snd.Sign(body).Get("Content-Type"))

	code, err := snd.Deliver(ctx, hook.URL, body)
	require.NoError(t, err)
	assert.Less(t, code, 300)
	assert.Equal(t, [][]byte{body}, fake.Received(hook.ID))

	other, err := engramitest.NewSender("whsec_other")
	require.NoError(t, err)
	code, err = other.Deliver(ctx, hook.URL, body)
	require.NoError(t, err)
	assert.Equal(t, 401, code, "another secret's signature is refused")
	assert.Len(t, snd.Schedule(), 1)
}
