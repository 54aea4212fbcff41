package core

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
