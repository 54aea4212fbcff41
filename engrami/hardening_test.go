package engrami_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONSchemaKeepsEveryKeyword: typed keywords (format, minLength,
// default, pattern, minimum, ...) and numeric enums survive a round trip,
// and unknown keywords are written back unchanged.
func TestJSONSchemaKeepsEveryKeyword(t *testing.T) {
	in := `{"type":"object","required":["email"],"additionalProperties":false,"x-vendor":{"a":[1,2]},
	"properties":{
	 "email":{"type":"string","format":"email","minLength":3,"maxLength":254,"pattern":"^.+@.+$","default":"a@b.c"},
	 "level":{"type":"integer","enum":[1,2,3],"minimum":1,"maximum":3,"exclusiveMaximum":4},
	 "mixed":{"enum":["a",1,true,null],"type":"string"},
	 "tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":5,"uniqueItems":true},
	 "any":{"type":"object","oneOf":[{"type":"string"},{"type":"number"}],"$ref":"#/defs/x","examples":["q"]}}}`
	var s engrami.JSONSchema
	require.NoError(t, json.Unmarshal([]byte(in), &s))
	assert.Equal(t, []any{1.0, 2.0, 3.0}, s.Properties["level"].Enum, "numeric enum")
	assert.Equal(t, "email", s.Properties["email"].Format)
	require.NotNil(t, s.Properties["email"].MinLength)
	assert.Equal(t, 3, *s.Properties["email"].MinLength)
	assert.JSONEq(t, `{"a":[1,2]}`, string(s.Extra["x-vendor"]))
	out, err := json.Marshal(&s)
	require.NoError(t, err)
	assert.JSONEq(t, in, string(out))

	// Built in Go with a numeric enum and an extra keyword.
	min1 := 1.0
	b, err := json.Marshal(engrami.JSONSchema{Type: "integer", Enum: []any{1, 2}, Minimum: &min1, Default: 2,
		Extra: map[string]json.RawMessage{"multipleOf": json.RawMessage("1")}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"integer","enum":[1,2],"minimum":1,"default":2,"multipleOf":1}`, string(b))
}

// TestToolPreviewOptionalParameterAbsent: the document's own test call
// sends only identifier; fields is optional and renders as absent, while a
// missing required parameter is still the error.
func TestToolPreviewOptionalParameterAbsent(t *testing.T) {
	tool := lookupTool()
	req, err := tool.Preview(map[string]any{"identifier": "test@example.com"}, map[string]string{"CRM_API_KEY": "k"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"query": "test@example.com"}, req.Body, "select left out")
	_, err = tool.Preview(map[string]any{"fields": []any{}}, map[string]string{"CRM_API_KEY": "k"})
	assert.ErrorContains(t, err, `required parameter "identifier"`)
	// A placeholder that is not a declared parameter is still an error.
	tool.Endpoint.BodyTemplate["typo"] = "{{identifer}}"
	_, err = tool.Preview(map[string]any{"identifier": "x"}, map[string]string{"CRM_API_KEY": "k"})
	assert.ErrorContains(t, err, `parameter "identifer" is missing`)
}

// TestToolHandlerServesEveryEndpointMethod: every method Endpoint.validate
// accepts is served by NewToolHandler (GET and DELETE read the parameters
// from the query string), and a method validate refuses is answered 405.
func TestToolHandlerServesEveryEndpointMethod(t *testing.T) {
	type params struct {
		Identifier string `json:"identifier" required:"true"`
	}
	h, err := engrami.NewToolHandler("s3", func(_ context.Context, p params) (map[string]string, error) {
		return map[string]string{"got": p.Identifier}, nil
	})
	require.NoError(t, err)
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		tool := lookupTool()
		tool.Endpoint.Method = m
		validErr := tool.Validate()
		var r *http.Request
		if m == "GET" || m == "DELETE" || m == "HEAD" || m == "OPTIONS" {
			r = httptest.NewRequest(m, "/tool?identifier=abc", nil)
		} else {
			r = httptest.NewRequest(m, "/tool", strings.NewReader(`{"identifier":"abc"}`))
		}
		r.Header.Set("Authorization", "Bearer s3")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if validErr == nil {
			assert.Equal(t, 200, w.Code, "%s is a valid endpoint method, so it is served: %s", m, w.Body)
			assert.JSONEq(t, `{"got":"abc"}`, w.Body.String(), m)
		} else {
			assert.Equal(t, 405, w.Code, "%s is refused by validate and by the handler", m)
		}
	}
}

// TestSenderRetriesOnlyWhenNotDelivered: a POST that may have reached
// Engrami (a timeout, a reset, a 500 or a 503 without Retry-After) is not
// retried by default, since Engrami documents no idempotency; a refused
// connection, a 429 and a 503 with Retry-After are. WithSenderRetryUnsafe
// opts into retrying the rest.
func TestSenderRetriesOnlyWhenNotDelivered(t *testing.T) {
	cases := map[string]struct {
		handler   func(n int32, w http.ResponseWriter)
		wantHits  int32
		unsafeHit int32
	}{
		"500":                {func(n int32, w http.ResponseWriter) { w.WriteHeader(500) }, 1, 3},
		"503 no Retry-After": {func(n int32, w http.ResponseWriter) { w.WriteHeader(503) }, 1, 3},
		"503 with Retry-After": {func(n int32, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(503)
			}
		}, 2, 2},
		"429": {func(n int32, w http.ResponseWriter) {
			if n == 1 {
				w.WriteHeader(429)
			}
		}, 2, 2},
		"reset after the request": {func(n int32, w http.ResponseWriter) {
			if n == 1 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
			}
		}, 1, 2},
	}
	for name, tc := range cases {
		for _, unsafe := range []bool{false, true} {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.handler(hits.Add(1), w) }))
			clk := webhooktest.NewFakeClock(time.Now())
			opts := []engrami.SenderOption{engrami.WithSenderClock(clk),
				engrami.WithSenderRetry(engrami.RetryPolicy{MaxRetries: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second})}
			if unsafe {
				opts = append(opts, engrami.WithSenderRetryUnsafe())
			}
			s, err := engrami.NewSender(srv.URL+"/in/wh_1", "whsec_x", opts...)
			require.NoError(t, err)
			stop := testkit.AutoAdvance(t, clk)
			_ = s.SendRaw(context.Background(), []byte(`{}`))
			stop()
			want := tc.wantHits
			if unsafe {
				want = tc.unsafeHit
			}
			assert.Equal(t, want, hits.Load(), "%s (unsafe retries %v)", name, unsafe)
			srv.Close()
		}
	}

	// A refused connection provably did not reach Engrami: retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	_ = ln.Close()
	clk := webhooktest.NewFakeClock(time.Now())
	var retries atomic.Int32
	s, err := engrami.NewSender("http://"+addr+"/in/wh_1", "whsec_x", engrami.WithSenderClock(clk),
		engrami.WithSenderRetry(engrami.RetryPolicy{MaxRetries: 2, BaseDelay: time.Second, MaxDelay: 10 * time.Second,
			OnRetry: func(engrami.RetryInfo) { retries.Add(1) }}))
	require.NoError(t, err)
	go func() {
		for i := 0; i < 2; i++ {
			if clk.BlockUntilWaiters(1, 5*time.Second) {
				d, _ := clk.NextWait()
				clk.Advance(d)
			}
		}
	}()
	err = s.SendRaw(context.Background(), []byte(`{}`))
	require.Error(t, err)
	assert.Equal(t, int32(2), retries.Load())
	assert.False(t, errors.Is(err, context.Canceled))
}

// TestSecretValueRedactedAndRedirectRefused: a 400 echoing the body of
// CreateSecret keeps the value out of the error, and a 307 to another host
// never receives the secret.
func TestSecretValueRedactedAndRedirectRefused(t *testing.T) {
	const value = "sk_live_do_not_leak"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]any{"code": "bad", "message": "invalid " + string(b), "details": json.RawMessage(b)}})
	}))
	defer echo.Close()
	c, err := engrami.NewClient(engrami.WithToken("tok"), engrami.WithBaseURL(echo.URL))
	require.NoError(t, err)
	err = c.CreateSecret(context.Background(), &engrami.SecretParams{Name: "CRM_API_KEY", Value: value})
	var apiErr *engrami.Error
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), value)
	assert.NotContains(t, string(apiErr.Body), value)
	assert.NotContains(t, string(apiErr.Details), value)

	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	c, err = engrami.NewClient(engrami.WithToken("tok"), engrami.WithBaseURL(redirect.URL))
	require.NoError(t, err)
	err = c.CreateSecret(context.Background(), &engrami.SecretParams{Name: "CRM_API_KEY", Value: value})
	assert.ErrorIs(t, err, engrami.ErrRedirectRefused)
	assert.Zero(t, leaked.Load())
}

// TestEngramiSecretTypesFormatRedacted: no verb prints a secret-holding
// type's secret.
func TestEngramiSecretTypesFormatRedacted(t *testing.T) {
	const secret = "whsec_do_not_print"
	c, err := engrami.NewClient(engrami.WithToken(secret))
	require.NoError(t, err)
	s, err := engrami.NewSender("https://hooks.engrami.com/in/wh_1", secret)
	require.NoError(t, err)
	testkit.FormatsRedacted(t, secret, engrami.IncomingWebhook{ID: "wh", Secret: secret}, &engrami.IncomingWebhook{Secret: secret},
		engrami.OAuthProvider{Name: "p", ClientSecret: secret}, c, s)
}

// TestToolHandlerSharesTheReceiverVocabulary: the tool endpoint takes the
// same options as every receiver, reports failures with the same log keys,
// recovers a panicking tool (500) and bounds the tool by WithTimeout (504).
func TestToolHandlerSharesTheReceiverVocabulary(t *testing.T) {
	type params struct {
		Mode string `json:"mode" required:"true"`
	}
	var logs bytes.Buffer
	var hooked []string
	h, err := engrami.NewToolHandler("tool-secret-123", func(ctx context.Context, p params) (map[string]string, error) {
		switch p.Mode {
		case "panic":
			panic("tool bug")
		case "slow":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return map[string]string{"ok": p.Mode}, nil
	}, engrami.WithToolLogger(slog.New(slog.NewJSONHandler(&logs, nil))), engrami.WithToolTimeout(50*time.Millisecond),
		engrami.WithToolMaxBodyBytes(64), engrami.WithToolErrorHook(func(_ *http.Request, err error) { hooked = append(hooked, err.Error()) }))
	require.NoError(t, err)
	call := func(body string) int {
		req := httptest.NewRequest("POST", "/tools/x", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tool-secret-123")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, 200, call(`{"mode":"fine"}`))
	assert.Equal(t, 500, call(`{"mode":"panic"}`), "a panicking tool is answered, not a dropped connection")
	start := time.Now()
	assert.Equal(t, 504, call(`{"mode":"slow"}`), "the deadline's answer, like every receiver")
	assert.Less(t, time.Since(start), 2*time.Second, "bounded by WithTimeout")
	assert.Equal(t, 413, call(`{"mode":"`+strings.Repeat("x", 100)+`"}`))
	for _, key := range []string{`"provider":"engrami"`, `"status":500`, `"status":413`, `"error":`} {
		assert.Contains(t, logs.String(), key)
	}
	assert.NotContains(t, logs.String(), "tool-secret-123")
	assert.Len(t, hooked, 3)
	_, err = engrami.NewToolHandler("s", func(context.Context, params) (int, error) { return 0, nil }, engrami.WithToolMaxBodyBytes(0))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
}

// TestSentinelsAreThisPackages: engrami's sentinels are its own values and
// match the errors the client returns.
func TestSentinelsAreThisPackages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"success":false,"error":{"code":"not_found","message":"no such action"}}`))
	}))
	defer srv.Close()
	c, err := engrami.NewClient(engrami.WithToken("t"), engrami.WithBaseURL(srv.URL), engrami.WithRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)
	_, err = c.TestTool(context.Background(), "lookup", map[string]any{"q": "x"})
	assert.ErrorIs(t, err, engrami.ErrNotFound)
	assert.NotErrorIs(t, err, engrami.ErrServer)
	_, err = engrami.NewClient(engrami.WithToken("t"), engrami.WithBaseURL("ftp://x"))
	assert.ErrorIs(t, err, engrami.ErrInvalidOption)
}

// TestToolOptionsAreTheirOwnType: a receiver option (webhook.WithInbox)
// means nothing to a tool endpoint, so it does not compile there (asserted
// with the assignability rule the compiler applies), and a bad tool option
// names itself.
func TestToolOptionsAreTheirOwnType(t *testing.T) {
	tool, receiver := reflect.TypeOf(engrami.WithToolTimeout(time.Second)), reflect.TypeOf(webhook.WithInbox(nil))
	assert.False(t, receiver.AssignableTo(tool), "a webhook.Option is not a ToolOption")
	assert.False(t, tool.AssignableTo(receiver), "a ToolOption is not a webhook.Option")
	_, err := engrami.NewToolHandler("s", func(context.Context, struct{}) (int, error) { return 0, nil }, engrami.WithToolTimeout(0))
	require.ErrorIs(t, err, webhook.ErrInvalidOption)
	require.ErrorIs(t, err, engrami.ErrInvalidOption)
	assert.Contains(t, err.Error(), "engrami: WithToolTimeout: ")
}

// A nil option is bad input: an error naming it, never a panic.
func TestConstructorsNilOption(t *testing.T) {
	_, err := engrami.NewClient(engrami.WithToken("tok"), nil)
	testkit.CheckInvalidOption(t, "NewClient", err, engrami.ErrInvalidOption, "option 1 is nil")
	_, err = engrami.NewSender("https://engrami.example/hook", "whsec_c2VjcmV0", nil)
	testkit.CheckInvalidOption(t, "NewSender", err, engrami.ErrInvalidOption, "option 0 is nil")
}
