package siro_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackMintDecodeErrorHidesMintedToken: the access-token endpoint
// answers 201 with a freshly minted token in a body the client cannot
// decode (accessTokenId as a number). The mint fails, but the error a
// user API call returns must not carry the minted token: DecodeError.Body
// keeps the start of the body, token included, for anyone who logs it.
func TestAttackMintDecodeErrorHidesMintedToken(t *testing.T) {
	const minted = "access-MINTED-SECRET-77"
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"accessTokenId":12345,"accessToken":%q}`, minted)
	}))
	defer org.Close()
	var userHits atomic.Int32
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { userHits.Add(1) }))
	defer user.Close()
	var logs bytes.Buffer
	c, err := siro.NewClient(siro.WithOrgToken("org-tok"), siro.WithOrgBaseURL(org.URL), siro.WithUserBaseURL(user.URL),
		siro.WithOAuthApp("cid", "client-secret-xyz", "u1", siro.ScopeRead),
		siro.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	err = c.Do(context.Background(), siro.UserAPI, http.MethodGet, "/v1/core/recordings/{id}", []string{"r1"}, nil, nil, nil)
	require.Error(t, err)
	assert.Zero(t, userHits.Load(), "no user API request without a token")
	var de *siro.DecodeError
	require.ErrorAs(t, err, &de)
	for what, s := range map[string]string{
		"Error": err.Error(), "%+v": fmt.Sprintf("%+v", err), "%#v": fmt.Sprintf("%#v", de), "Body": string(de.Body), "logs": logs.String(),
	} {
		assert.NotContains(t, s, minted, what)
		assert.NotContains(t, s, "client-secret-xyz", what)
	}
	_, err = c.CreateAccessToken(context.Background(), "cid", &siro.CreateAccessTokenParams{ClientSecret: "client-secret-xyz", UserID: "u1", Scope: siro.ScopeRead})
	require.ErrorAs(t, err, &de)
	assert.NotContains(t, string(de.Body), minted, "CreateAccessToken's own DecodeError")
}
