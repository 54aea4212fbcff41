package engramitest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// send sends one raw request to the fake's host (path includes /api/v1
// or /in/) with token as the bearer ("" for none) and returns status,
// headers and the body.
func send(t *testing.T, fake *engramitest.Server, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// apiError decodes the overview's error envelope.
func apiError(t *testing.T, b []byte) (code string, details map[string]string) {
	t.Helper()
	var env struct {
		Success *bool `json:"success"`
		Error   struct {
			Code    string            `json:"code"`
			Details map[string]string `json:"details"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(b, &env), string(b))
	require.NotNil(t, env.Success, string(b))
	require.False(t, *env.Success, string(b))
	return env.Error.Code, env.Error.Details
}

const (
	goodTool     = `"name":"lookup","description":"d","parameters":{"type":"object"},"endpoint":{"url":"https://x","method":"POST"}`
	goodHook     = `"name":"n","agent_id":"a","transform":{"message":"$.x"}`
	goodProvider = `"name":"crm","display_name":"CRM","authorization_url":"https://a","token_url":"https://t","client_id":"c","client_secret":"s","redirect_uri":"https://r"`
	goodAction   = `"name":"ticket","description":"d","endpoint":{"url":"https://x","method":"POST"},"input_schema":{"type":"object"}`
)

// TestWrongJSONTypesAre400: a body field of a type other than the one
// Engrami's custom-integrations page shows (a string, an object, an array
// of strings) is an invalid request naming the field, not stored as "".
func TestWrongJSONTypesAre400(t *testing.T) {
	for _, c := range []struct {
		path, body, field string
	}{
		{"/secrets", `{"name":"A","value":123}`, "value"},
		{"/secrets", `{"name":5,"value":"x"}`, "name"},
		{"/secrets", `{"name":["A"],"value":"x"}`, "name"},
		{"/tools", `{"name":1,"description":"d","parameters":{},"endpoint":{"url":"u","method":"POST"}}`, "name"},
		{"/tools", `{"name":"t","description":true,"parameters":{},"endpoint":{"url":"u","method":"POST"}}`, "description"},
		{"/tools", `{"name":"t","description":"d","parameters":"x","endpoint":{"url":"u","method":"POST"}}`, "parameters"},
		{"/tools", `{"name":"t","description":"d","parameters":{},"endpoint":7}`, "endpoint"},
		{"/tools", `{"name":"t","description":"d","parameters":{},"endpoint":{"url":9,"method":"POST"}}`, "endpoint.url"},
		{"/tools", `{"name":"t","description":"d","parameters":{},"endpoint":{"url":"u","method":"POST","headers":{"A":1}}}`, "endpoint.headers"},
		{"/tools", `{"name":"t","description":"d","parameters":{},"endpoint":{"url":"u","method":"POST","body_template":"q"}}`, "endpoint.body_template"},
		{"/webhooks/incoming", `{"name":"n","agent_id":"a","transform":"$.x"}`, "transform"},
		{"/webhooks/incoming", `{"name":"n","agent_id":7,"transform":{"message":"$.x"}}`, "agent_id"},
		{"/webhooks/incoming", `{"name":"n","agent_id":"a","transform":{"message":{}}}`, "transform.message"},
		{"/webhooks/incoming", `{"name":"n","agent_id":"a","transform":{"message":"$.x","metadata":{"id":1}}}`, "transform.metadata"},
		{"/integrations/oauth/providers", `{` + goodProvider + `,"scopes":"read"}`, "scopes"},
		{"/integrations/oauth/providers", `{` + strings.Replace(goodProvider, `"client_secret":"s"`, `"client_secret":{"v":"s"}`, 1) + `}`, "client_secret"},
		{"/integrations/actions", `{` + strings.Replace(goodAction, `"input_schema":{"type":"object"}`, `"input_schema":[]`, 1) + `}`, "input_schema"},
		{"/integrations/actions", `{` + goodAction + `,"output_mapping":{"id":false}}`, "output_mapping"},
		{"/tools/lookup/test", `{"parameters":"x"}`, "parameters"},
	} {
		t.Run(c.path+" "+c.field, func(t *testing.T) {
			fake := engramitest.New()
			defer fake.Close()
			st, _, _ := send(t, fake, "POST", "/api/v1/tools", fake.Token, `{`+goodTool+`}`)
			require.Equal(t, 201, st)
			st, _, b := send(t, fake, "POST", "/api/v1"+c.path, fake.Token, c.body)
			assert.Equal(t, 400, st, string(b))
			code, details := apiError(t, b)
			assert.Equal(t, "invalid_request", code)
			assert.Equal(t, c.field, details["field"], string(b))
			_, stored := fake.Secret("")
			assert.False(t, stored, "a secret stored under an empty name")
		})
	}
	// Optional fields may be null or absent, as before.
	fake := engramitest.New()
	defer fake.Close()
	for path, body := range map[string]string{
		"/tools":                        `{` + goodTool + `}`,
		"/webhooks/incoming":            `{"name":"n","agent_id":"a","transform":{"message":"$.x","metadata":null}}`,
		"/integrations/oauth/providers": `{` + goodProvider + `,"scopes":["read","write"]}`,
		"/integrations/actions":         `{` + goodAction + `,"output_mapping":{"ticket_id":"$.id"}}`,
		"/secrets":                      `{"name":"A","value":"v"}`,
	} {
		st, _, b := send(t, fake, "POST", "/api/v1"+path, fake.Token, body)
		assert.Equal(t, 201, st, path+": "+string(b))
	}
}

// TestRejectedRequestsConsumeNothing: a request answered 401 spends no
// rate-limit budget, no RateLimitNext count and no injected fault, and a
// request answered 429 takes no injected fault: each is left for the
// request it was meant for.
func TestRejectedRequestsConsumeNothing(t *testing.T) {
	secret := `{"name":"A","value":"v"}`
	t.Run("fault survives a 401", func(t *testing.T) {
		fake := engramitest.New()
		defer fake.Close()
		fake.Fail("/api/v1/secrets", 500, 1)
		st, _, _ := send(t, fake, "POST", "/api/v1/secrets", "wrong", secret)
		require.Equal(t, 401, st)
		st, _, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
		assert.Equal(t, 500, st, "the injected fault was spent on the 401")
	})
	t.Run("RateLimitNext survives a 401", func(t *testing.T) {
		fake := engramitest.New()
		defer fake.Close()
		fake.RateLimitNext(1, time.Time{})
		st, _, _ := send(t, fake, "POST", "/api/v1/secrets", "wrong", secret)
		require.Equal(t, 401, st)
		st, _, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
		assert.Equal(t, 429, st, "RateLimitNext was spent on the 401")
	})
	t.Run("budget survives 401s", func(t *testing.T) {
		fake := engramitest.New(engramitest.WithRateLimit(1))
		defer fake.Close()
		for range 3 {
			st, _, _ := send(t, fake, "POST", "/api/v1/secrets", "", secret)
			require.Equal(t, 401, st)
		}
		st, h, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
		assert.Equal(t, 201, st, "unauthenticated requests spent the key's budget")
		assert.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
	})
	t.Run("fault survives a 429", func(t *testing.T) {
		fake := engramitest.New()
		defer fake.Close()
		fake.Fail("/api/v1/secrets", 500, 1)
		fake.RateLimitNext(1, time.Time{})
		st, _, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
		require.Equal(t, 429, st)
		st, _, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
		assert.Equal(t, 500, st, "the injected fault was spent on the 429")
	})
}

// TestRecordsAreCopies: what Requests and Received return is the
// caller's to change; the fake's record stays as received.
func TestRecordsAreCopies(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client()
	require.NoError(t, err)
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.x"}})
	require.NoError(t, err)
	s, err := engrami.NewSender(hook.URL, hook.Secret)
	require.NoError(t, err)
	require.NoError(t, s.Send(ctx, map[string]string{"event": "lead.created"}))

	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	want := string(reqs[0].Body)
	reqs[0].Body[0] = 'X'
	reqs[0].Header.Set("Authorization", "Bearer changed")
	again := fake.Requests()[0]
	assert.Equal(t, want, string(again.Body), "the fake's recorded body changed")
	assert.Equal(t, "Bearer "+fake.Token, again.Header.Get("Authorization"), "the fake's recorded header changed")

	got := fake.Received(hook.ID)
	require.Len(t, got, 1)
	wantEvent := string(got[0])
	got[0][0] = 'X'
	assert.Equal(t, wantEvent, string(fake.Received(hook.ID)[0]), "the fake's received event changed")
}

// TestOversizedBodyIsNamed: a body over the fake's 1 MiB limit is
// answered 400 saying so, not read truncated ("body is not a JSON
// object", or a truncated body accepted).
func TestOversizedBodyIsNamed(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	big := `{"name":"A","value":"` + strings.Repeat("x", 1<<20) + `"}`
	st, _, b := send(t, fake, "POST", "/api/v1/secrets", fake.Token, big)
	assert.Equal(t, 400, st)
	code, details := apiError(t, b)
	assert.Equal(t, "invalid_request", code)
	assert.Equal(t, "body_too_large", details["reason"], string(b))
	// A valid object followed by padding past the limit is refused too,
	// not accepted from its first MiB.
	st, _, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, `{"name":"B","value":"v"}`+strings.Repeat(" ", 1<<20))
	assert.Equal(t, 400, st)
	_, ok := fake.Secret("B")
	assert.False(t, ok)
	// The hook URLs read no more either (a truncated body failed its
	// signature: 401).
	st, _, b = send(t, fake, "POST", "/api/v1/webhooks/incoming", fake.Token, `{`+goodHook+`}`)
	require.Equal(t, 201, st, string(b))
	var hook struct{ ID string }
	require.NoError(t, json.Unmarshal(b, &hook))
	st, _, _ = send(t, fake, "POST", "/in/"+hook.ID, "", `{"x":"`+strings.Repeat("x", 1<<20)+`"}`)
	assert.Equal(t, 413, st)
}

// TestHookURLIsNotTheAPI: the incoming-webhook URLs are Engrami's
// hooks.engrami.com, not its API: another method than POST is 405 there,
// without the API's bearer token, and is not recorded as an API request.
func TestHookURLIsNotTheAPI(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	st, h, _ := send(t, fake, "GET", "/in/wh_in_000001", "", "")
	assert.Equal(t, 405, st)
	assert.Equal(t, "POST", h.Get("Allow"))
	assert.Empty(t, h.Get("X-RateLimit-Limit"), "the hooks host is not the rate-limited API")
	st, _, _ = send(t, fake, "POST", "/in/wh_in_000001/extra", "", "{}")
	assert.Equal(t, 404, st)
	assert.Empty(t, fake.Requests())
}

// TestFailRejectsAnInvalidStatus: Fail with a status net/http cannot
// write (or a negative count) returns an error naming it and adds no
// rule; the fake's handler used to panic writing it and drop the
// connection.
func TestFailRejectsAnInvalidStatus(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	for _, st := range []int{0, 99, 100, 600, 1000, -1} {
		err := fake.Fail("", st, 1)
		require.Error(t, err, "status %d", st)
		assert.Contains(t, err.Error(), fmt.Sprintf("status %d ", st)) // not a digit of "200 to 599"
	}
	require.Error(t, fake.Fail("", 503, -1))
	st, _, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, `{"name":"A","value":"v"}`)
	assert.Equal(t, 201, st, "a rejected Fail left a rule behind")
}

// TestConcurrentUse hammers every route and accessor at once; run with
// -race.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New(engramitest.WithRateLimit(1 << 20))
	defer fake.Close()
	c, err := fake.Client(engrami.WithRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			name := fmt.Sprintf("tool_%d", i)
			assert.NoError(t, c.CreateSecret(ctx, &engrami.SecretParams{Name: fmt.Sprintf("S_%d", i), Value: "v"}))
			_, err := c.CreateTool(ctx, &engrami.Tool{Name: name, Description: "d", Parameters: &engrami.JSONSchema{Type: "object"},
				Endpoint: engrami.Endpoint{URL: "https://x", Method: "POST"}})
			assert.NoError(t, err)
			assert.NoError(t, fake.SetToolResult(name, map[string]int{"i": i}))
			res, err := c.TestTool(ctx, name, map[string]any{"q": i})
			if assert.NoError(t, err) {
				assert.JSONEq(t, fmt.Sprintf(`{"i":%d}`, i), string(res.Response))
			}
			hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a", Transform: engrami.Transform{Message: "$.x"}})
			if assert.NoError(t, err) {
				s, err := engrami.NewSender(hook.URL, hook.Secret)
				require.NoError(t, err)
				assert.NoError(t, s.Send(ctx, map[string]int{"i": i}))
				assert.Len(t, fake.Received(hook.ID), 1)
			}
			fake.Fail("GET /never", 500, 1)
			fake.RateLimitNext(0, time.Time{})
			_ = fake.Requests()
		})
	}
	wg.Wait()
	assert.Len(t, fake.Requests(), 16*4)
}

// TestNegativeRateLimitIsZero: a negative WithRateLimit is a budget of 0
// (every request 429), never a negative X-RateLimit-Limit or -Remaining.
func TestNegativeRateLimitIsZero(t *testing.T) {
	fake := engramitest.New(engramitest.WithRateLimit(-5))
	defer fake.Close()
	st, h, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, `{"name":"A","value":"v"}`)
	assert.Equal(t, 429, st)
	assert.Equal(t, "0", h.Get("X-RateLimit-Limit"))
	assert.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
	st, h, _ = send(t, fake, "POST", "/api/v1/secrets", "wrong", `{"name":"A","value":"v"}`)
	assert.Equal(t, 401, st)
	assert.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
}
