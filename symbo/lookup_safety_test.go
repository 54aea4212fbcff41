package symbo_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookupStrictSignatureByDefault: an HMAC over the empty body is one
// fixed value for every lookup, so whoever captured one request could
// read every contact with it. By default the lookup accepts only an HMAC
// over the query string (bound to the number), refuses the empty-body
// one with 401 and logs why; InsecureAcceptEmptyBodySignature opts back
// in.
func TestLookupStrictSignatureByDefault(t *testing.T) {
	const secret = "abcdefg"
	var asked []string
	fn := func(_ context.Context, number string) (*symbo.Contact, error) {
		asked = append(asked, number)
		return sally, nil
	}
	s, _ := symbotest.NewSender(secret)
	fixed := s.Sign(nil).Get(symbo.HeaderSignature) // HMAC(secret, ""): the same for every request
	withFixed := func(t *testing.T, url, number string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"?number="+number, nil)
		req.Header.Set(symbo.HeaderSignature, fixed)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	var logs bytes.Buffer
	strict, err := symbo.NewLookupHandler([]string{secret}, fn, symbo.WithLookupLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(strict)
	defer srv.Close()
	for _, n := range []string{"%2B18005551212", "%2B15178626434"} {
		assert.Equal(t, 401, withFixed(t, srv.URL, n), "the fixed empty-body token unlocks no contact")
	}
	assert.Empty(t, asked, "the lookup function never ran")
	assert.Contains(t, logs.String(), "HMAC over the empty body")
	assert.Contains(t, logs.String(), "InsecureAcceptEmptyBodySignature")
	assert.NotContains(t, logs.String(), secret)
	dialer, err := symbotest.NewDialer(secret)
	require.NoError(t, err)
	dialer.Client = srv.Client()
	code, c, err := dialer.Lookup(context.Background(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 200, code, "an HMAC over the query")
	assert.Equal(t, sally, c)
	// A query signature is bound to its number: replayed for another, 401.
	req, _ := http.NewRequest("GET", srv.URL+"?number=%2B15178626434", nil)
	req.Header.Set(symbo.HeaderSignature, s.Sign([]byte("number=%2B18005551212")).Get(symbo.HeaderSignature))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)

	lax, err := symbo.NewLookupHandler([]string{secret}, fn, symbo.InsecureAcceptEmptyBodySignature())
	require.NoError(t, err)
	lsrv := httptest.NewServer(lax)
	defer lsrv.Close()
	assert.Equal(t, 200, withFixed(t, lsrv.URL, "%2B18005551212"), "opted in")
	assert.Contains(t, fmt.Sprint(lax), "empty-body hmac accepted")

	_, err = symbo.NewLookupHandler(nil, fn, symbo.InsecureAcceptEmptyBodySignature(), symbo.InsecureNoAuth())
	assert.ErrorIs(t, err, webhook.ErrInvalidOption, "the opt-in needs the secrets it relaxes")
}
