package engrami_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupTool() *engrami.Tool {
	return &engrami.Tool{
		Name: "lookup_customer", Description: "Look up customer information by email or ID",
		Parameters: &engrami.JSONSchema{Type: "object", Required: []string{"identifier"}, Properties: map[string]*engrami.JSONSchema{
			"identifier": {Type: "string", Description: "Customer email or ID"},
			"fields":     {Type: "array", Items: &engrami.JSONSchema{Type: "string"}, Description: "Fields to return"},
		}},
		Endpoint: engrami.Endpoint{URL: "https://your-api.com/customers/lookup", Method: "POST",
			Headers:      map[string]string{"Authorization": "Bearer {{secrets.CRM_API_KEY}}"},
			BodyTemplate: map[string]any{"query": "{{identifier}}", "select": "{{fields}}"}},
	}
}

func newClient(t *testing.T, fake *engramitest.Server, opts ...engrami.Option) *engrami.Client {
	c, err := engrami.NewClient(append([]engrami.Option{engrami.WithToken(fake.Token), engrami.WithBaseURL(fake.BaseURL()), engrami.WithTenantID("tenant-1")}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestEndpoints(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c := newClient(t, fake)
	last := func() engramitest.Request { r := fake.Requests(); return r[len(r)-1] }
	check := func(method, path, body string) {
		t.Helper()
		r := last()
		assert.Equal(t, method, r.Method)
		assert.Equal(t, path, r.Path)
		assert.Equal(t, "tenant_id=tenant-1", r.Query)
		assert.Equal(t, "Bearer "+fake.Token, r.Header.Get("Authorization"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.JSONEq(t, body, string(r.Body))
	}

	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "CRM Lead Webhook", AgentID: "agent_sales",
		Transform: engrami.Transform{Message: "$.data.description", Metadata: map[string]string{"lead_id": "$.data.id", "company": "$.data.company_name"}}})
	require.NoError(t, err)
	check("POST", "/api/v1/webhooks/incoming", `{"name":"CRM Lead Webhook","agent_id":"agent_sales","transform":{"message":"$.data.description","metadata":{"lead_id":"$.data.id","company":"$.data.company_name"}}}`)
	assert.True(t, strings.HasPrefix(hook.Secret, "whsec_"))
	assert.NotContains(t, hook.String(), hook.Secret)

	_, err = c.CreateTool(ctx, lookupTool())
	require.NoError(t, err)
	check("POST", "/api/v1/tools", `{"name":"lookup_customer","description":"Look up customer information by email or ID",
		"parameters":{"type":"object","properties":{"identifier":{"type":"string","description":"Customer email or ID"},"fields":{"type":"array","description":"Fields to return","items":{"type":"string"}}},"required":["identifier"]},
		"endpoint":{"url":"https://your-api.com/customers/lookup","method":"POST","headers":{"Authorization":"Bearer {{secrets.CRM_API_KEY}}"},"body_template":{"query":"{{identifier}}","select":"{{fields}}"}}}`)

	res, err := c.TestTool(ctx, "lookup_customer", map[string]any{"identifier": "test@example.com"})
	require.NoError(t, err)
	check("POST", "/api/v1/tools/lookup_customer/test", `{"parameters":{"identifier":"test@example.com"}}`)
	assert.True(t, res.Success)
	assert.Equal(t, 234, res.ResponseTimeMS)
	assert.JSONEq(t, `{"echo":{"identifier":"test@example.com"}}`, string(res.Response))

	_, err = c.CreateOAuthProvider(ctx, &engrami.OAuthProvider{Name: "custom_crm", DisplayName: "Custom CRM",
		AuthorizationURL: "https://crm.example.com/oauth/authorize", TokenURL: "https://crm.example.com/oauth/token",
		ClientID: "your_client_id", ClientSecret: "your_client_secret", Scopes: []string{"read", "write"},
		RedirectURI: "https://api.engrami.com/api/v1/oauth/callback"})
	require.NoError(t, err)
	check("POST", "/api/v1/integrations/oauth/providers", `{"name":"custom_crm","display_name":"Custom CRM","authorization_url":"https://crm.example.com/oauth/authorize","token_url":"https://crm.example.com/oauth/token","client_id":"your_client_id","client_secret":"your_client_secret","scopes":["read","write"],"redirect_uri":"https://api.engrami.com/api/v1/oauth/callback"}`)
	assert.Equal(t, "https://app.engrami.com/integrations/connect/custom_crm", engrami.ConnectURL("custom_crm"))

	_, err = c.CreateAction(ctx, ticketAction())
	require.NoError(t, err)
	check("POST", "/api/v1/integrations/actions", `{"name":"create_support_ticket","description":"Create a support ticket in the help desk",
		"endpoint":{"url":"https://helpdesk.example.com/api/tickets","method":"POST","headers":{"Authorization":"Bearer {{secrets.HELPDESK_KEY}}","Content-Type":"application/json"}},
		"input_schema":{"type":"object","properties":{"subject":{"type":"string"},"description":{"type":"string"},"priority":{"type":"string","enum":["low","medium","high"]},"customer_email":{"type":"string"}},"required":["subject","description","customer_email"]},
		"output_mapping":{"ticket_id":"$.id","ticket_url":"$.web_url"}}`)

	require.NoError(t, c.CreateSecret(ctx, &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_live_abc123"}))
	check("POST", "/api/v1/secrets", `{"name":"CRM_API_KEY","value":"sk_live_abc123"}`)
	v, _ := fake.Secret("CRM_API_KEY")
	assert.Equal(t, "sk_live_abc123", v)

	var out map[string]any
	require.NoError(t, c.Do(ctx, "POST", "/secrets", nil, nil, map[string]string{"name": "X", "value": "y"}, &out))
	assert.Equal(t, "X", out["name"], "the escape hatch unwraps the envelope too")

	rl, ok := c.RateLimit()
	require.True(t, ok)
	assert.Equal(t, 600, rl.Limit)
	assert.Less(t, rl.Remaining, 600)
}

func ticketAction() *engrami.Action {
	return &engrami.Action{Name: "create_support_ticket", Description: "Create a support ticket in the help desk",
		Endpoint: engrami.Endpoint{URL: "https://helpdesk.example.com/api/tickets", Method: "POST",
			Headers: map[string]string{"Authorization": "Bearer {{secrets.HELPDESK_KEY}}", "Content-Type": "application/json"}},
		InputSchema: &engrami.JSONSchema{Type: "object", Required: []string{"subject", "description", "customer_email"}, Properties: map[string]*engrami.JSONSchema{
			"subject": {Type: "string"}, "description": {Type: "string"}, "priority": {Type: "string", Enum: []any{"low", "medium", "high"}}, "customer_email": {Type: "string"}}},
		OutputMapping: map[string]string{"ticket_id": "$.id", "ticket_url": "$.web_url"}}
}

func TestValidationBeforeRequest(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c := newClient(t, fake)
	badTool := lookupTool()
	badTool.Parameters.Required = []string{"nope"}
	noURL := lookupTool()
	noURL.Endpoint.URL = "/relative"
	badAction := ticketAction()
	badAction.OutputMapping["x"] = "id"
	calls := []error{
		func() error {
			_, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "x"})
			return err
		}(),
		func() error {
			_, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "x", AgentID: "a", Transform: engrami.Transform{Message: "data.x"}})
			return err
		}(),
		func() error { _, err := c.CreateTool(ctx, badTool); return err }(),
		func() error { _, err := c.CreateTool(ctx, noURL); return err }(),
		func() error { _, err := c.CreateTool(ctx, &engrami.Tool{Name: "bad name!"}); return err }(),
		func() error { _, err := c.TestTool(ctx, "../x", nil); return err }(),
		func() error { _, err := c.CreateAction(ctx, badAction); return err }(),
		func() error { _, err := c.CreateOAuthProvider(ctx, &engrami.OAuthProvider{Name: "p"}); return err }(),
		c.CreateSecret(ctx, &engrami.SecretParams{Name: "bad-name", Value: "v"}),
		c.CreateSecret(ctx, &engrami.SecretParams{Name: "OK", Value: ""}),
	}
	for i, err := range calls {
		assert.ErrorIs(t, err, engrami.ErrInvalidRequest, "call %d", i)
	}
	assert.Empty(t, fake.Requests())
	_, err := engrami.NewClient(engrami.WithToken(""))
	assert.ErrorIs(t, err, engrami.ErrInvalidOption)
}

func TestErrorEnvelopeAndRateLimit(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	clk := webhooktest.NewFakeClock(time.Now())
	c := newClient(t, fake, engrami.WithClock(clk), engrami.WithRetry(engrami.RetryPolicy{MaxRetries: 2, BaseDelay: time.Second, MaxDelay: 20 * time.Second}))
	// Server-side validation answers the documented error envelope.
	err := c.Do(ctx, "POST", "/integrations/actions", nil, nil, map[string]string{"name": "a"}, nil)
	var e *engrami.Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, engrami.ErrBadRequest)
	assert.Equal(t, "invalid_request", e.Code)
	assert.Equal(t, "missing required field", e.Message)
	assert.JSONEq(t, `{"field":"description","reason":"missing_required_field"}`, string(e.Details))

	wrong, _ := engrami.NewClient(engrami.WithToken("bad-token"), engrami.WithBaseURL(fake.BaseURL()))
	err = wrong.CreateSecret(ctx, &engrami.SecretParams{Name: "A", Value: "b"})
	assert.ErrorIs(t, err, engrami.ErrUnauthorized)

	// 429: the client waits until X-RateLimit-Reset (capped), then retries.
	reset := clk.Now().Add(7 * time.Second).Truncate(time.Second).Add(time.Second)
	fake.RateLimitNext(1, reset)
	done := make(chan error)
	go func() {
		done <- c.CreateSecret(ctx, &engrami.SecretParams{Name: "A", Value: "b"}, engrami.WithIdempotencyKey("k1"))
	}()
	require.True(t, clk.BlockUntilWaiters(1, 5*time.Second))
	d, _ := clk.NextWait()
	want := reset.Sub(clk.Now())
	assert.GreaterOrEqual(t, d, want, "waits until the reset")
	assert.LessOrEqual(t, d, want+max(want/2, time.Second), "plus jitter")
	clk.Advance(d)
	require.NoError(t, <-done)
	reqs := fake.Requests()
	assert.Equal(t, "k1", reqs[len(reqs)-1].Header.Get("Idempotency-Key"))
	assert.Equal(t, "k1", reqs[len(reqs)-2].Header.Get("Idempotency-Key"), "the same key on every attempt")

	// POST without a key is not retried.
	fake.RateLimitNext(1, clk.Now().Add(5*time.Second))
	err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "A", Value: "b"})
	assert.ErrorIs(t, err, engrami.ErrRateLimited)
	require.ErrorAs(t, err, &e)
	assert.Greater(t, e.RetryAfter, time.Duration(0))

	// Bare (unwrapped) answers decode too.
	fake.Wrap = false
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.x"}})
	require.NoError(t, err)
	assert.NotEmpty(t, hook.ID)
}

func TestSenderSignsAndRetries(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c := newClient(t, fake)
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.data.description"}})
	require.NoError(t, err)
	var logs bytes.Buffer
	s, err := engrami.NewSender(hook.URL, hook.Secret, engrami.WithSenderLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	event := map[string]any{"event": "lead.created", "data": map[string]string{"id": "lead_123", "company_name": "Acme Corp", "description": "Interested in enterprise plan"}}
	require.NoError(t, s.Send(ctx, event))
	got := fake.Received(hook.ID)
	require.Len(t, got, 1)
	assert.JSONEq(t, `{"event":"lead.created","data":{"id":"lead_123","company_name":"Acme Corp","description":"Interested in enterprise plan"}}`, string(got[0]))
	assert.NotContains(t, logs.String(), hook.Secret)

	// 503 with Retry-After (provably not processed) then success: retried
	// with the same body and signature.
	var n atomic.Int32
	var sigs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sigs = append(sigs, r.Header.Get("X-Webhook-Signature"))
		b, _ := io.ReadAll(r.Body)
		if n.Add(1) < 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			return
		}
		assert.JSONEq(t, `{"a":1}`, string(b))
	}))
	defer srv.Close()
	clk := webhooktest.NewFakeClock(time.Now())
	s2, err := engrami.NewSender(srv.URL+"/in/x", "whsec_abc", engrami.WithSenderClock(clk))
	require.NoError(t, err)
	done := make(chan error)
	go func() { done <- s2.Send(ctx, map[string]int{"a": 1}) }()
	for i := 0; i < 2; i++ {
		require.True(t, clk.BlockUntilWaiters(1, 5*time.Second))
		d, _ := clk.NextWait()
		clk.Advance(d)
	}
	require.NoError(t, <-done)
	require.Len(t, sigs, 3)
	assert.Equal(t, sigs[0], sigs[2])
	assert.Equal(t, s2.Sign([]byte(`{"a":1}`)), sigs[0])
	// Key handling, documented: the secret as returned, prefix included.
	strip, _ := engrami.NewSender(srv.URL, "whsec_abc", engrami.WithSecretPrefixStripped())
	assert.NotEqual(t, s2.Sign([]byte("x")), strip.Sign([]byte("x")))
}

type lookupParams struct {
	Identifier string   `json:"identifier" required:"true"`
	Fields     []string `json:"fields"`
	Limit      int      `json:"limit"`
}

type lookupResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

func TestToolHandler(t *testing.T) {
	h, err := engrami.NewToolHandler("crm-key", func(ctx context.Context, p lookupParams) (lookupResult, error) {
		switch p.Identifier {
		case "boom":
			return lookupResult{}, errors.New("db password=hunter2 rejected")
		case "gone":
			return lookupResult{}, &engrami.ToolError{Status: 404, Code: "not_found", Message: "no such customer"}
		}
		return lookupResult{Name: "John Smith", Status: "active"}, nil
	})
	require.NoError(t, err)
	call := func(auth, body string) (int, string) {
		req := httptest.NewRequest("POST", "/tools/lookup", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, body := call("Bearer crm-key", `{"identifier":"john@acme.com","fields":["name"]}`)
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"name":"John Smith","status":"active"}`, body)
	for _, c := range []struct {
		auth, body string
		code       int
		contains   string
	}{
		{"", `{"identifier":"x"}`, 401, "unauthorized"},
		{"Bearer wrong", `{"identifier":"x"}`, 401, "unauthorized"},
		{"crm-key", `{"identifier":"x"}`, 401, "unauthorized"},
		{"Bearer crm-key", `{"fields":["a"]}`, 400, "field identifier is required"},
		{"Bearer crm-key", `{"identifier":null}`, 400, "field identifier is required"},
		{"Bearer crm-key", `{"identifier":"x","limit":"ten"}`, 400, "field limit must be int"},
		{"Bearer crm-key", `[1]`, 400, "invalid_json"},
		{"Bearer crm-key", `{"identifier":"boom"}`, 500, "the tool failed"},
		{"Bearer crm-key", `{"identifier":"gone"}`, 404, "no such customer"},
	} {
		code, body := call(c.auth, c.body)
		assert.Equal(t, c.code, code, c.body)
		assert.Contains(t, body, c.contains)
		assert.NotContains(t, body, "hunter2", "internal errors stay in the logs")
		assert.NotContains(t, body, "crm-key")
	}
	_, err = engrami.NewToolHandler[lookupParams, lookupResult]("", nil)
	assert.Error(t, err)
}

func TestPreviewOffline(t *testing.T) {
	tool := lookupTool()
	req, err := tool.Preview(map[string]any{"identifier": "john@acme.com", "fields": []any{"name", "status"}}, map[string]string{"CRM_API_KEY": "sk_1"})
	require.NoError(t, err)
	assert.Equal(t, "POST", req.Method)
	assert.Equal(t, "https://your-api.com/customers/lookup", req.URL)
	assert.Equal(t, "Bearer sk_1", req.Headers["Authorization"])
	assert.Equal(t, map[string]any{"query": "john@acme.com", "select": []any{"name", "status"}}, req.Body, "a whole-value placeholder keeps its type")
	_, err = tool.Preview(map[string]any{"identifier": "x", "fields": []any{}}, nil)
	assert.ErrorContains(t, err, `secret "CRM_API_KEY" is not defined`)
	_, err = tool.Preview(map[string]any{"fields": []any{}}, map[string]string{"CRM_API_KEY": "k"})
	assert.ErrorContains(t, err, `required parameter "identifier"`)

	payload := []byte(`{"event":"lead.created","data":{"id":"lead_123","company_name":"Acme Corp","description":"Interested in enterprise plan","tags":["a","b"]}}`)
	msg, meta, err := engrami.ApplyTransform(engrami.Transform{Message: "$.data.description",
		Metadata: map[string]string{"lead_id": "$.data.id", "company": "$.data.company_name", "first_tag": "$.data.tags[1]", "quoted": "$['data']['id']"}}, payload)
	require.NoError(t, err)
	assert.Equal(t, "Interested in enterprise plan", msg)
	assert.Equal(t, map[string]any{"lead_id": "lead_123", "company": "Acme Corp", "first_tag": "b", "quoted": "lead_123"}, meta)
	_, _, err = engrami.ApplyTransform(engrami.Transform{Message: "$.data.missing"}, payload)
	assert.ErrorContains(t, err, `no key "missing"`)
	_, _, err = engrami.ApplyTransform(engrami.Transform{Message: "$.data.tags[5]"}, payload)
	assert.ErrorContains(t, err, "out of range")

	out, err := engrami.ApplyOutputMapping(ticketAction().OutputMapping, []byte(`{"id":"T-1","web_url":"https://helpdesk/T-1"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"ticket_id": "T-1", "ticket_url": "https://helpdesk/T-1"}, out)
	areq, err := ticketAction().Preview(map[string]any{"subject": "s", "description": "d", "customer_email": "e"}, map[string]string{"HELPDESK_KEY": "hk"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer hk", areq.Headers["Authorization"])
	v, err := engrami.RenderTemplate(map[string]any{"text": "Hi {{name}}, {{n}} items", "list": []any{"{{name}}"}}, map[string]any{"name": "Ann", "n": 3}, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"text": "Hi Ann, 3 items", "list": []any{"Ann"}}, v)
}

// TestNoSecretsInLogsOrErrors drives errors with a known token, secret
// value and OAuth client secret.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	const token, secretValue, clientSecret = "tok_SUPERSECRET", "sk_live_SUPERSECRET", "cs_SUPERSECRET"
	var logs bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"success":false,"error":{"code":"internal","message":"boom"}}`)
	}))
	defer srv.Close()
	clk := webhooktest.NewFakeClock(time.Now())
	c, err := engrami.NewClient(engrami.WithToken(token), engrami.WithBaseURL(srv.URL), engrami.WithClock(clk),
		engrami.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	var errs []string
	err = c.CreateSecret(context.Background(), &engrami.SecretParams{Name: "CRM_API_KEY", Value: secretValue})
	require.Error(t, err)
	errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
	p := &engrami.OAuthProvider{Name: "crm", DisplayName: "CRM", AuthorizationURL: "https://a/x", TokenURL: "https://a/t", ClientID: "id", ClientSecret: clientSecret, RedirectURI: "https://a/r"}
	_, err = c.CreateOAuthProvider(context.Background(), p)
	require.Error(t, err)
	errs = append(errs, err.Error(), fmt.Sprint(p), fmt.Sprintf("%v", *p))
	require.NotEmpty(t, logs.String())
	for _, s := range append(errs, logs.String()) {
		for _, secret := range []string{token, secretValue, clientSecret} {
			assert.NotContains(t, s, secret)
		}
	}
	_ = json.Valid
}

const (
	toolOldA = "tool-a-old-secret-0001"
	toolNewA = "tool-a-new-secret-0002"
	toolB    = "tool-b-secret-00000003"
)

func assertNoSecret(t *testing.T, out string, what string) {
	t.Helper()
	for _, s := range []string{toolOldA, toolNewA, toolB} {
		assert.NotContains(t, out, s, what)
	}
}

func callTool(t *testing.T, url, secret string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"identifier":"x"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestToolHandlerSecretSource: the tool's bearer secrets come per tenant
// from a source on /engrami/{tenant}/tools/lookup: rotation overlap, a
// removed secret stops at once, cross-tenant refused, unknown tenant 404,
// a failing source 503 with Retry-After then success; no secret in logs,
// errors or any fmt verb.
func TestToolHandlerSecretSource(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"a": {toolOldA}, "b": {toolB}})
	var logs bytes.Buffer
	var hooked []error
	var mu sync.Mutex
	calls := 0
	h, err := engrami.NewToolHandler("", func(_ context.Context, p lookupParams) (lookupResult, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return lookupResult{}, nil
	},
		engrami.WithToolSecretSource(src, webhook.TenantFromPath("tenant")),
		engrami.WithToolLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		engrami.WithToolErrorHook(func(_ *http.Request, err error) { hooked = append(hooked, err) }))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/engrami/{tenant}/tools/lookup", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	a, b := srv.URL+"/engrami/a/tools/lookup", srv.URL+"/engrami/b/tools/lookup"

	st, _ := callTool(t, a, toolOldA)
	assert.Equal(t, 200, st)
	st, _ = callTool(t, a, toolNewA)
	assert.Equal(t, 401, st, "not yet added")
	src.SetTenant("a", toolNewA, toolOldA)
	for _, sec := range []string{toolOldA, toolNewA} {
		st, _ = callTool(t, a, sec)
		assert.Equal(t, 200, st, "both during the overlap")
	}
	src.SetTenant("a", toolNewA)
	st, _ = callTool(t, a, toolOldA)
	assert.Equal(t, 401, st, "removed stops at once")
	st, _ = callTool(t, b, toolNewA)
	assert.Equal(t, 401, st, "tenant A's secret on tenant B's URL")
	st, _ = callTool(t, b, toolB)
	assert.Equal(t, 200, st)
	st, _ = callTool(t, srv.URL+"/engrami/zz/tools/lookup", toolB)
	assert.Equal(t, 404, st, "unknown tenant")

	src.SetFail(true)
	st, retry := callTool(t, b, toolB)
	assert.Equal(t, 503, st, "a failing source is never 401")
	assert.NotEmpty(t, retry)
	src.SetFail(false)
	st, _ = callTool(t, b, toolB)
	assert.Equal(t, 200, st)
	assert.Equal(t, 5, calls)

	var sawSource bool
	for _, e := range hooked {
		sawSource = sawSource || errors.Is(e, webhook.ErrSecretSource)
		assertNoSecret(t, fmt.Sprintf("%v %+v %#v %s", e, e, e, e.Error()), "error")
	}
	assert.True(t, sawSource)
	assertNoSecret(t, logs.String(), "logs")
	assert.Contains(t, logs.String(), "status=503")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecret(t, fmt.Sprintf(verb, h), verb)
	}

	_, err = engrami.NewToolHandler[lookupParams, lookupResult]("", func(context.Context, lookupParams) (lookupResult, error) { return lookupResult{}, nil },
		engrami.WithToolSecretSource(nil, webhook.FixedTenant("a")))
	assert.ErrorContains(t, err, "WithToolSecretSource")
}

// TestSenderSecretSource: the sender signs each send with the first
// secret the source returns now; a source error fails the send with
// ErrSecretSource and nothing is sent.
func TestSenderSecretSource(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(toolNewA))
		m.Write(b)
		mu.Lock()
		got = append(got, r.Header.Get(engrami.HeaderSignature))
		mu.Unlock()
		if r.Header.Get(engrami.HeaderSignature) != engrami.SignaturePrefix+hex.EncodeToString(m.Sum(nil)) {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	src := testkit.NewSecretSource(map[string][]string{"a": {toolOldA, toolNewA}})
	var logs bytes.Buffer
	s, err := engrami.NewSender(srv.URL+"/in/x", "", engrami.WithSenderSecretSource(src, "a"),
		engrami.WithSenderLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	ctx := context.Background()

	err = s.Send(ctx, map[string]int{"a": 1})
	require.Error(t, err, "signed with the first (old) secret, which the receiver no longer takes")
	assertNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err), "error")

	src.SetTenant("a", toolNewA, toolOldA)
	require.NoError(t, s.Send(ctx, map[string]int{"a": 1}), "new secret first")

	src.SetFail(true)
	err = s.Send(ctx, map[string]int{"a": 1})
	require.ErrorIs(t, err, webhook.ErrSecretSource)
	assertNoSecret(t, fmt.Sprintf("%v %+v %#v", err, err, err), "error")
	_, err = s.SignContext(ctx, []byte("x"))
	assert.ErrorIs(t, err, webhook.ErrSecretSource)
	assert.Empty(t, s.Sign([]byte("x")), "Sign never signs without a secret")

	src.SetFail(false)
	src.SetTenant("a")
	assert.ErrorIs(t, s.Send(ctx, 1), webhook.ErrSecretSource, "an empty list")

	mu.Lock()
	assert.Len(t, got, 2, "nothing sent while the source failed")
	for _, g := range got {
		assert.NotEmpty(t, g, "never unsigned")
	}
	mu.Unlock()
	assertNoSecret(t, logs.String(), "logs")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecret(t, fmt.Sprintf(verb, s), verb)
	}

	_, err = engrami.NewSender(srv.URL, "whsec_x", engrami.WithSenderSecretSource(src, "a"))
	assert.ErrorContains(t, err, "not both")
	_, err = engrami.NewSender(srv.URL, "", engrami.WithSenderSecretSource(nil, "a"))
	assert.ErrorContains(t, err, "WithSenderSecretSource")
}

// TestSecretSourcePanicsRedacted: a panic value built from a source-backed
// handler or sender prints no secret.
func TestSecretSourcePanicsRedacted(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"a": {toolOldA}})
	s, err := engrami.NewSender("http://127.0.0.1:1/in", "", engrami.WithSenderSecretSource(src, "a"))
	require.NoError(t, err)
	var out string
	func() {
		defer func() { out = fmt.Sprint(recover()) }()
		panic(s)
	}()
	assert.Contains(t, out, "redacted")
	assertNoSecret(t, out, "panic")
}

// TestToolSeesTenant: with a secret source, the tool function reads the
// tenant the source resolved from webhook.TenantFrom.
func TestToolSeesTenant(t *testing.T) {
	tenants := make(chan string, 1)
	src := testkit.NewSecretSource(map[string][]string{"a": {toolOldA}, "b": {toolB}})
	h, err := engrami.NewToolHandler("", func(ctx context.Context, _ lookupParams) (lookupResult, error) {
		t, _ := webhook.TenantFrom(ctx)
		tenants <- t
		return lookupResult{}, nil
	}, engrami.WithToolSecretSource(src, webhook.TenantFromPath("tenant")))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/engrami/{tenant}/tools/lookup", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for tenant, secret := range map[string]string{"a": toolOldA, "b": toolB} {
		st, _ := callTool(t, srv.URL+"/engrami/"+tenant+"/tools/lookup", secret)
		require.Equal(t, 200, st)
		assert.Equal(t, tenant, <-tenants)
	}
}
