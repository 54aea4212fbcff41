package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackBaseURLErrorHidesCredentials: a base URL that wrongly carries
// a password or an API key in its query is refused, and the refusal (an
// error logged at start-up) must not repeat the secret.
func TestAttackBaseURLErrorHidesCredentials(t *testing.T) {
	const secret = "sk_live_BASEURL_9f8e7d"
	for _, raw := range []string{
		"https://user:" + secret + "@api.example.com/v1",
		"https://api.example.com/v1?api_key=" + secret,
		"https://user:" + secret + "@exa mple.com/", // url.Parse fails and quotes its input
		"ftp://user:" + secret + "@api.example.com/",
		"https://user:" + secret + "@/nohost",
	} {
		_, err := NormalizeBaseURL(raw)
		require.Error(t, err, raw)
		assert.ErrorIs(t, err, ErrInvalidOption, raw)
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, s, secret, "base URL %q", raw)
		}
		_, err = New(Config{Provider: "test", BaseURL: raw})
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), secret, "New with base URL %q", raw)
	}
}

// TestAttackAPIErrorHeaderRedacted: APIError.Header is documented (and in
// siro.Error and engrami.Error) as "the response header (credentials
// redacted)". A server that sets a session cookie or echoes the credential
// header must not put either into the error a caller logs.
func TestAttackAPIErrorHeaderRedacted(t *testing.T) {
	const token = "tok_SECRET_echoed_4242"
	const cookie = "sess_SECRET_cookie_4242"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session="+cookie+"; HttpOnly")
		w.Header().Set("X-Siro-Auth-Token", r.Header.Get("X-Siro-Auth-Token"))
		w.Header().Set("Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Request-Id", "req-1")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	for _, auth := range []Auth{Bearer(token), Header("x-siro-auth-token", token)} {
		c := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.Auth = auth
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/things"}, nil)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "req-1", apiErr.RequestID)
		assert.Equal(t, "req-1", apiErr.Header.Get("X-Request-Id"), "other headers are kept")
		assert.Equal(t, "7", apiErr.Header.Get("Retry-After"), "other headers are kept")
		for k, vs := range apiErr.Header {
			for _, v := range vs {
				assert.NotContains(t, v, token, "header %s", k)
				assert.NotContains(t, v, cookie, "header %s", k)
			}
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%#v", *apiErr)} {
			assert.NotContains(t, s, token)
			assert.NotContains(t, s, cookie)
		}
	}
	assert.NotContains(t, logs.String(), token)
	assert.NotContains(t, logs.String(), cookie)
	assert.Contains(t, logs.String(), "[redacted]", "the debug log shows the credential header redacted")
}

// TestAttackBaseURLShapes: the refusal still names the host, an empty
// query ("...?", which would have put the route after the '?') is
// refused, and usable URLs (IPv6 with a port, a path) are kept.
func TestAttackBaseURLShapes(t *testing.T) {
	_, err := NormalizeBaseURL("https://user:pw_secret@api.example.com/v1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "api.example.com/v1", "the host and path are still named")
	assert.NotContains(t, err.Error(), "pw_secret")

	_, err = NormalizeBaseURL("https://api.example.com/v1?")
	assert.ErrorIs(t, err, ErrInvalidOption, "an empty query would put the route after the '?'")

	_, err = NormalizeBaseURL("https://host:sk_port_secret/v1") // "user:secret" without "@host"
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "sk_port_secret")

	for raw, want := range map[string]string{
		"http://[::1]:8080/api/":         "http://[::1]:8080/api",
		"https://api.example.com":        "https://api.example.com",
		"https://api.example.com:8443//": "https://api.example.com:8443",
		"https://api.example.com/a%2Fb/": "https://api.example.com/a%2Fb",
	} {
		got, err := NormalizeBaseURL(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
}

// TestAttackDecodeErrorBodyHidesSecrets: a 2xx answer that fails to decode
// keeps the start of its body in DecodeError.Body. A credential in it (a
// minted token the caller could not know in advance, under a key such as
// "accessToken" or "client_secret") is redacted, as is a known secret of
// the request even where the 512-byte cap cuts through it.
func TestAttackDecodeErrorBodyHidesSecrets(t *testing.T) {
	const minted = "access-MINTED-SECRET-77"
	const known = "known-request-SECRET-0123456789"
	bodies := map[string]string{
		"/mint":     `{"accessTokenId":12345,"accessToken":"` + minted + `"}`,
		"/snake":    `{"id": 1, "token_type": "bearer", "access_token" : "` + minted + `", "refresh_token":"` + minted + `x", "expires_in": "soon"}`,
		"/escaped":  `{"n":"x","clientSecret":"` + minted + `\"tail","n2":1,"bad":}`,
		"/cut":      `{"pad":"` + strings.Repeat("p", 500-len(`{"pad":"","v":"`)) + `",` + `"v":"` + known + `"}`,
		"/cutvalue": `{"pad":"` + strings.Repeat("p", 470) + `","password":"` + minted + strings.Repeat("m", 100) + `"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(bodies[r.URL.Path]))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	for path := range bodies {
		var out struct {
			AccessTokenID string `json:"accessTokenId"`
			ExpiresIn     int    `json:"expires_in"`
			Pad           int    `json:"pad"`
			N             int    `json:"n"`
		}
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Route: path, Body: map[string]string{"s": known}, Secrets: []string{known}}, &out)
		var de *DecodeError
		require.ErrorAs(t, err, &de, path)
		assert.LessOrEqual(t, len(de.Body), 512, path)
		for _, s := range []string{string(de.Body), err.Error(), fmt.Sprintf("%+v", err)} {
			assert.NotContains(t, s, minted[:12], path)
			assert.NotContains(t, s, known[:12], path)
		}
	}
	_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/mint"}, &struct{ AccessTokenID string }{})
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, string(de.Body), `"accessTokenId":12345`, "other fields are kept for debugging")
}

// TestAttackErrorBodyCapDoesNotCutSecret: an error body longer than
// MaxErrorBody is cut; a known secret (or the credential) the cut runs
// through must not survive as a long prefix at the end of the kept body.
func TestAttackErrorBodyCapDoesNotCutSecret(t *testing.T) {
	const known = "known-request-SECRET-0123456789"
	const token = "bearer-token-SECRET-0123456789"
	for _, secret := range []string{known, token} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(strings.Repeat("x", MaxErrorBody-12) + secret + strings.Repeat("y", 100)))
		}))
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = Bearer(token) })
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Route: "/x", Secrets: []string{known}}, nil)
		srv.Close()
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.LessOrEqual(t, len(apiErr.Body), MaxErrorBody)
		assert.NotContains(t, string(apiErr.Body), secret[:8], "the kept body ends in a cut secret")
	}
}

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
	got := string(redactCredentialFields([]byte(`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\",\"id\":7}"}`)))
	assert.NotContains(t, got, "MINTED-SECRET")
	assert.Contains(t, got, `\"id\":7`, "the embedded document's other fields are kept")
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(got), &v), "still JSON: %s", got)
	// An array of documents and a document two strings deep are handled;
	// strings without a credential key are left as they were.
	for in, secret := range map[string]string{
		`["{\"password\":\"PW-SECRET-22\"}"]`:                              "PW-SECRET",
		`{"a":"{\"b\":\"{\\\"client_secret\\\":\\\"CS-SECRET-33\\\"}\"}"}`: "CS-SECRET",
	} {
		assert.NotContains(t, string(redactCredentialFields([]byte(in))), secret, in)
	}
	for _, in := range []string{`{"note":"say \"hi\""}`, `{"x":"{not json \"name\":\"v\""}`} {
		assert.Equal(t, in, string(redactCredentialFields([]byte(in))), in)
	}
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

// TestErrorBodyHidesCredentialFields: a non-2xx answer that echoes a
// credential the client never knew (under a credential-named key) keeps
// it out of the APIError's body, message and every format, as a
// DecodeError's body does; the error's other fields stay for debugging.
func TestErrorBodyHidesCredentialFields(t *testing.T) {
	const echoed = "echoed-OTHER-TOKEN-4242"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"message":"invalid grant","details":{"refresh_token":"` + echoed + `","client_id":"app-7"}}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Route: "/oauth/token", Body: map[string]string{"grant_type": "refresh_token"}}, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	for _, s := range []string{string(ae.Body), err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", ae)} {
		assert.NotContains(t, s, echoed[:12])
	}
	assert.Contains(t, string(ae.Body), `"client_id":"app-7"`)
	assert.Contains(t, string(ae.Body), "invalid grant")
}

// FuzzRedactCredentialFields: any bytes, embedded documents included,
// redact without a panic, and a credential value under a credential key
// never survives.
func FuzzRedactCredentialFields(f *testing.F) {
	f.Add([]byte(`{"raw":"{\"accessToken\":\"SECRETVALUE\"}"}`), "SECRETVALUE")
	f.Add([]byte(`{"a":"{\"b\":\"{\\\"password\\\":\\\"SECRETVALUE\\\"}\"}"}`), "SECRETVALUE")
	f.Add([]byte(`["\"{\\\"x`), "x")
	f.Fuzz(func(t *testing.T, b []byte, secret string) {
		_ = redactCredentialFields(b)
		if len(secret) < 8 || strings.ContainsAny(secret, "\"\\{}[]:,\n\r\t ") {
			return
		}
		inner, _ := json.Marshal(map[string]string{"client_secret": secret})
		raw, _ := json.Marshal(string(inner))
		tok, _ := json.Marshal(secret)
		doc := []byte(`{"accessToken":` + string(tok) + `,"raw":` + string(raw) + `}`)
		// secret as the body carries it (escaped, if it holds what JSON escapes)
		if enc := string(tok[1 : len(tok)-1]); enc != secret {
			return
		}
		if bytes.Contains(redactCredentialFields(doc), []byte(secret)) {
			t.Fatalf("%q survives in %s", secret, redactCredentialFields(doc))
		}
	})
}

// TestReviewEmbeddedCredentialCutShort: an embedded document whose
// string is cut short (by a DecodeError's 16 KiB window, an error body's
// 64 KiB limit or a broken read) is still redacted inside, as a
// credential value that runs to the end is: the start of the document,
// the part a DecodeError keeps, holds the credential.
func TestReviewEmbeddedCredentialCutShort(t *testing.T) {
	pad := strings.Repeat("x", 20<<10)
	body := `{"raw":"{\"accessToken\":\"MINTED-SECRET-1\",\"pad\":\"` + pad + `\"}"}`
	got := string(decodeErrorBody([]byte(body), nil))
	assert.False(t, strings.Contains(got, "MINTED-SECRET"), "%.120s", got)
	for _, in := range []string{
		`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\",`,
		`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\"`, // cut just after an escaped quote
		`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\\`, // inside an escape
		`{"raw":"{\"accessToken\":\"MINTED-SECRET-1\u00`,
		`{"raw":"{\"accessToken\":\"MINTED-SECRET-1`,
		`["{\"a\":\"{\\\"password\\\":\\\"MINTED-SECRET-1`,
	} {
		got := string(redactCredentialFields([]byte(in)))
		assert.NotContains(t, got, "MINTED-SECRET", in)
		assert.True(t, strings.HasPrefix(got, in[:7]), "the start is kept: %s", got)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"message":"upstream failed","raw":"{\"refresh_token\":\"MINTED-SECRET-2\",\"pad\":\"` + strings.Repeat("y", 70<<10) + `\"}"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry = &RetryPolicy{MaxRetries: 0} })
	_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.False(t, strings.Contains(string(ae.Body), "MINTED-SECRET"), "%.120s", ae.Body)
	assert.Contains(t, string(ae.Body), `"message":"upstream failed"`)
}

// TestReviewEmbeddedCredentialUnicodeQuotes: an encoder may write the
// quotes of an embedded document as \u0022 (System.Text.Json does by
// default); the document is followed all the same.
func TestReviewEmbeddedCredentialUnicodeQuotes(t *testing.T) {
	for _, in := range []string{
		`{"raw":"{\u0022accessToken\u0022:\u0022MINTED-SECRET-3\u0022}"}`,
		`{"raw":"\u007b\"password\":\"MINTED-SECRET-3\"}"}`,
	} {
		got := redactCredentialFields([]byte(in))
		assert.NotContains(t, string(got), "MINTED-SECRET", in)
		assert.True(t, json.Valid(got), "%s", got)
	}
}

// TestReviewReencodedEmbeddedDocHidesKnownSecret: an embedded document
// with a credential field is decoded and encoded again after the known
// secrets were redacted; an escape the vendor's encoder wrote inside the
// client's own token ("\/" from PHP, "\u002B" from .NET) is decoded with
// it, so the token must not come out in plain text.
func TestReviewReencodedEmbeddedDocHidesKnownSecret(t *testing.T) {
	const token = "tok/ab+cd/SECRET-4"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"denied","echo":"{\"auth\":\"tok\/ab\u002Bcd\/SECRET-4\",\"password\":\"pw-5\"}"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = Bearer(token); cfg.Retry = &RetryPolicy{MaxRetries: 0} })
	_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.NotContains(t, string(ae.Body), "pw-5")
	assert.NotContains(t, string(ae.Body), token)
	assert.NotContains(t, err.Error(), token)

	body := []byte(`{"echo":"{\"auth\":\"tok\/ab\u002Bcd\/SECRET-4\",\"password\":\"pw-5\"}"}`)
	assert.NotContains(t, string(decodeErrorBody(body, []string{token})), token)
}

// TestReviewRedactionCostPerKey: every non-2xx body (up to 64 KiB) now
// runs through redactCredentialFields, which normalizes each member's
// key; building a strings.Replacer per key cost about 6 KiB and 5µs a
// key (56 ms for a 64 KiB body of small members). The bytes allocated
// are measured, not the time.
func TestReviewRedactionCostPerKey(t *testing.T) {
	const keys = 1000
	body := []byte("{" + strings.Repeat(`"Some_Key":1,`, keys) + `"b":2}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_ = redactCredentialFields(body)
	runtime.ReadMemStats(&after)
	perKey := (after.TotalAlloc - before.TotalAlloc) / keys
	assert.Less(t, perKey, uint64(512), "bytes allocated per member key")
}
