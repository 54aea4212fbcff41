package engrami_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
