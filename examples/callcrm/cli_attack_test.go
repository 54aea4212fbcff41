package main

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedURL returns an http URL on loopback where nothing listens
// (connection refused).
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// TestAttackNetworkErrorsNeverPrintTheLookupToken: "No verb ever prints a
// secret", and lookup -unsigned exists for an endpoint authenticated by a
// ?token= in -url (symbo.WithLookupToken, a credential to contact data).
// On a network error the CLI prints net/http's error, which quotes the
// whole URL with its query: the token lands on stderr (and in CI logs).
// trigger does the same for a receiver URL carrying a token.
func TestAttackNetworkErrorsNeverPrintTheLookupToken(t *testing.T) {
	const token = "tok_attack_TOPSECRET"
	base := closedURL(t)
	t.Run("lookup", func(t *testing.T) {
		r := callcrm(t, "", "lookup", "-unsigned", "-url", base+"/symbo/lookup?token="+token, "+18005551212")
		assert.Equal(t, exitIO, r.code, r.String())
		assert.False(t, strings.Contains(r.stdout+r.stderr, token), "the token was printed:\n%s", r)
	})
	t.Run("trigger", func(t *testing.T) {
		r := callcrm(t, "", "trigger", "sivo", "call.ended", "-secret", "sivo-secret", "-url", base+"/hook?token="+token)
		assert.NotEqual(t, exitOK, r.code, r.String())
		assert.False(t, strings.Contains(r.stdout+r.stderr, token), "the token was printed:\n%s", r)
	})
}
