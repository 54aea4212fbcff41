package core

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewBaseURLSlashInPasswordHidden: url.Parse ends the authority at
// the first '/', so a password holding one (base64 secrets often do), or
// a scheme with one slash too few, put the rest of the password after
// what describeURL took for the host: the refusal showed most of it.
func TestReviewBaseURLSlashInPasswordHidden(t *testing.T) {
	const secret = "sk_live_SLASH_9f8e7d"
	for _, raw := range []string{
		"https://user:abc/" + secret + "@api.example.com/v1",
		"https:/user:" + secret + "@api.example.com/v1",
		"https://user:" + secret + "/x@api.example.com/v1?q=1",
	} {
		_, err := NormalizeBaseURL(raw)
		require.Error(t, err, raw)
		assert.ErrorIs(t, err, ErrInvalidOption, raw)
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, s, secret[8:], "base URL %q", raw)
		}
	}
	_, err := NormalizeBaseURL("ftp://api.example.com/v1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api.example.com/v1", "a URL without user info is shown whole")
}

// TestReviewCredentialKeyEscaped: a key spelled with JSON escapes
// ("access\u0054oken") is the same key to encoding/json, and its value
// the same credential.
func TestReviewCredentialKeyEscaped(t *testing.T) {
	for _, body := range []string{
		`{"access\u0054oken":"MINTED-SECRET-1"}`,
		`{"client_\u0073ecret" : "MINTED-SECRET-1"}`,
		`{"\u0070assword":"MINTED-SECRET-1"}`,
	} {
		got := string(redactCredentialFields([]byte(body)))
		assert.NotContains(t, got, "MINTED-SECRET", body)
		assert.Contains(t, got, "[redacted]", body)
	}
}

// TestReviewCredentialContainerValue: a credential key whose value is an
// array or an object ("tokens": [...], "apiKey": {"value": ...}) keeps
// its strings out of the body too; other containers are untouched.
func TestReviewCredentialContainerValue(t *testing.T) {
	for body, want := range map[string]string{
		`{"tokens":["MINTED-SECRET-1","MINTED-SECRET-2"],"n":"keep"}`:        `{"tokens":["[redacted]","[redacted]"],"n":"keep"}`,
		`{"apiKey":{"value":"MINTED-SECRET-1","kind":"live"},"n":"keep"}`:    `{"apiKey":{"value":"[redacted]","kind":"[redacted]"},"n":"keep"}`,
		`{"credentials":[{"k":["MINTED-SECRET-1"]}],"after":{"x":"keep"}}`:   `{"credentials":[{"k":["[redacted]"]}],"after":{"x":"keep"}}`,
		`{"refresh_tokens" : [ "MINTED-SECRET-1", {"a":"]}\"MINTED-SECRET-2`: `{"refresh_tokens" : [ "[redacted]", {"a":"[redacted]`,
		`{"list":["accessToken","keep"],"tags":{"a":"keep"}}`:                `{"list":["accessToken","keep"],"tags":{"a":"keep"}}`,
	} {
		assert.Equal(t, want, string(redactCredentialFields([]byte(body))), body)
	}
}

// TestReviewCredentialNamesAndURLsKept: keys that name a credential's
// name or where to fetch one (Siro's OrgToken.tokenName, Engrami's
// OAuthProvider.token_url and authorization_url) are debugging
// information, not credentials: they are kept, as ids and types are.
func TestReviewCredentialNamesAndURLsKept(t *testing.T) {
	body := `{"tokenId":"t1","tokenName":"ci-deploy","token_url":"https://crm.example/oauth/token","secretUri":"vault://x","accessToken":"MINTED-SECRET-1"}`
	got := string(redactCredentialFields([]byte(body)))
	assert.Equal(t, `{"tokenId":"t1","tokenName":"ci-deploy","token_url":"https://crm.example/oauth/token","secretUri":"vault://x","accessToken":"[redacted]"}`, got)
}

// TestReviewCredentialInEmbeddedJSON: a 2xx body that carries another JSON
// document as a string (a tool's echoed answer, a raw upstream body) hides
// its credential fields behind escaped quotes.
func TestReviewCredentialInEmbeddedJSON(t *testing.T) {
	t.Skip("finding: redactCredentialFields does not look inside JSON-encoded strings; left for a follow-up")
	got := string(redactCredentialFields([]byte(`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\"}"}`)))
	assert.NotContains(t, got, "MINTED-SECRET")
}

// TestReviewBrokenErrorBodyDoesNotEndInSecret: an error body whose
// connection drops mid-way (here: fewer bytes than its Content-Length)
// still yields an APIError with what was read; if the read ended inside
// the echoed credential, its start must not be kept, as for the cut at
// MaxErrorBody.
func TestReviewBrokenErrorBodyDoesNotEndInSecret(t *testing.T) {
	const token = "bearer-token-SECRET-0123456789"
	body := `{"error":"invalid token ` + token[:20]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+100))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(body)) // the server closes the connection: the client reads an unexpected EOF
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = Bearer(token) })
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Route: "/x"}, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, strings.HasPrefix(string(apiErr.Body), `{"error":"invalid token `), "what was read is kept: %q", apiErr.Body)
	assert.NotContains(t, string(apiErr.Body), token[:8], "the kept body ends in the start of the credential")
}
