package sirotest_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRevokeIsASoftDelete: revoking needs the app's clientSecret and the
// token's userId; afterwards the token no longer authenticates, and GET
// still answers it with its id, scope and expiresAt, and revokedAt set.
func TestRevokeIsASoftDelete(t *testing.T) {
	ctx := context.Background()
	fake, v, clk, c := clockedFake(t)
	appID, secret := fake.CreateOAuthApp()
	tok, err := c.CreateAccessToken(ctx, appID, &siro.CreateAccessTokenParams{ClientSecret: secret, UserID: "siro-user-1", Scope: siro.ScopeRead})
	require.NoError(t, err)
	user, err := siro.NewClient(siro.WithUserToken(tok.AccessToken), siro.WithUserBaseURL(fake.UserURL()), siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	_, err = user.GetEntityExtractions(ctx, "no-such-recording")
	require.ErrorIs(t, err, siro.ErrNotFound, "the token authenticates")

	revoke := func(p siro.RevokeAccessTokenParams) error {
		p.ClientID = appID
		if p.TokenID == "" {
			p.TokenID = tok.AccessTokenID
		}
		return c.RevokeAccessToken(ctx, &p)
	}
	assert.ErrorIs(t, revoke(siro.RevokeAccessTokenParams{ClientSecret: "wrong-secret", UserID: "siro-user-1"}), siro.ErrUnauthorized)
	assert.ErrorIs(t, revoke(siro.RevokeAccessTokenParams{ClientSecret: secret, UserID: "someone-else"}), siro.ErrForbidden)
	assert.ErrorIs(t, revoke(siro.RevokeAccessTokenParams{ClientSecret: secret, UserID: "siro-user-1", TokenID: "tok_missing"}), siro.ErrNotFound)
	v.Expect(`request body has an error: doesn't match schema: at /userId: property "userId" is missing`)
	err = c.Do(ctx, siro.OrgAPI, "DELETE", "/v1/core/oauth/apps/{clientId}/access-token/{tokenId}", []string{appID, tok.AccessTokenID}, nil,
		map[string]string{"clientSecret": secret}, nil)
	var se *siro.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 422, se.StatusCode)
	info, err := c.GetAccessToken(ctx, appID, tok.AccessTokenID)
	require.NoError(t, err)
	assert.Nil(t, info.RevokedAt, "failed revokes change nothing")

	clk.Advance(time.Minute)
	require.NoError(t, revoke(siro.RevokeAccessTokenParams{ClientSecret: secret, UserID: "siro-user-1"}))
	info, err = c.GetAccessToken(ctx, appID, tok.AccessTokenID)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessTokenID, info.AccessTokenID)
	assert.Equal(t, "siro-user-1", info.UserID)
	assert.Equal(t, siro.ScopeRead, info.Scope)
	assert.Equal(t, clk.Now().Add(-time.Minute).Add(siro.DefaultTokenLifetime).Unix(), info.ExpiresAt.Unix())
	require.NotNil(t, info.RevokedAt)
	assert.Equal(t, clk.Now().Unix(), info.RevokedAt.Unix())
	_, err = user.GetEntityExtractions(ctx, "no-such-recording")
	assert.ErrorIs(t, err, siro.ErrUnauthorized, "a revoked token no longer authenticates")
	toks, err := c.ListAccessTokens(ctx, appID, &siro.ListAccessTokensParams{Owner: "siro-user-1"})
	require.NoError(t, err)
	require.Len(t, toks.Data, 1)
	assert.NotNil(t, toks.Data[0].RevokedAt)

	clk.Advance(time.Minute)
	require.NoError(t, revoke(siro.RevokeAccessTokenParams{ClientSecret: secret, UserID: "siro-user-1"}), "revoking again succeeds")
	again, err := c.GetAccessToken(ctx, appID, tok.AccessTokenID)
	require.NoError(t, err)
	assert.Equal(t, info.RevokedAt.Unix(), again.RevokedAt.Unix(), "and keeps the first revokedAt")
	_, err = c.GetAccessToken(ctx, "client_other", tok.AccessTokenID)
	assert.ErrorIs(t, err, siro.ErrNotFound, "a token is read through its own app")
}

// TestDeleteAppIsASoftDelete: Siro soft-deletes an app and revokes its
// tokens; the app stays readable with deleted and deletedAt, and mints no
// more tokens.
func TestDeleteAppIsASoftDelete(t *testing.T) {
	ctx := context.Background()
	fake, _, clk, c := clockedFake(t)
	app, err := c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "crm", Owner: "siro-user-7", OrganizationID: fake.OrganizationID})
	require.NoError(t, err)
	tok, err := c.CreateAccessToken(ctx, app.ClientID, &siro.CreateAccessTokenParams{ClientSecret: app.ClientSecret, UserID: "u", Scope: siro.ScopeWrite})
	require.NoError(t, err)
	got, err := c.GetOAuthApp(ctx, app.ClientID)
	require.NoError(t, err)
	assert.Equal(t, "crm", got.AppName)
	assert.Equal(t, "siro-user-7", got.Owner)
	assert.False(t, got.Deleted)
	assert.Nil(t, got.DeletedAt)

	clk.Advance(time.Hour)
	require.NoError(t, c.DeleteOAuthApp(ctx, app.ClientID))
	got, err = c.GetOAuthApp(ctx, app.ClientID)
	require.NoError(t, err, "a soft-deleted app stays readable")
	assert.True(t, got.Deleted)
	require.NotNil(t, got.DeletedAt)
	assert.Equal(t, clk.Now().Unix(), got.DeletedAt.Unix())
	assert.Equal(t, clk.Now().Add(-time.Hour).Unix(), got.CreatedAt.Unix())
	info, err := c.GetAccessToken(ctx, app.ClientID, tok.AccessTokenID)
	require.NoError(t, err)
	require.NotNil(t, info.RevokedAt, "deleting the app revoked its tokens")
	_, err = c.CreateAccessToken(ctx, app.ClientID, &siro.CreateAccessTokenParams{ClientSecret: app.ClientSecret, UserID: "u", Scope: siro.ScopeRead})
	assert.ErrorIs(t, err, siro.ErrUnauthorized, "a deleted app mints no tokens")
	_, err = c.GetOAuthApp(ctx, "client_missing")
	assert.ErrorIs(t, err, siro.ErrNotFound)
}
