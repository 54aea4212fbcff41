package engrami_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmptyAnswerIsErrEmptyBody: a 2xx answer with no result (an empty
// body, null) to a call that returns one is a *DecodeError wrapping
// ErrEmptyBody, as it is in package siro, never an empty result with a
// nil error (an IncomingWebhook without URL or Secret, which NewSender
// would then refuse far from the cause).
func TestEmptyAnswerIsErrEmptyBody(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := engrami.NewClient(engrami.WithToken("t"), engrami.WithBaseURL(srv.URL), engrami.WithMaxRetries(0))
	require.NoError(t, err)
	ctx := context.Background()
	for _, b := range []string{"", "null", `{"success": true, "data": null}`} {
		body = b
		hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a",
			Transform: engrami.Transform{Message: "$.m"}})
		assert.Nil(t, hook, "body %q", b)
		assert.ErrorIs(t, err, engrami.ErrEmptyBody, "CreateIncomingWebhook, body %q", b)
		var de *engrami.DecodeError
		assert.ErrorAs(t, err, &de, "body %q", b)

		res, err := c.TestTool(ctx, "lookup", nil)
		assert.Nil(t, res, "body %q", b)
		assert.ErrorIs(t, err, engrami.ErrEmptyBody, "TestTool, body %q", b)

		var out struct{ ID string }
		err = c.Do(ctx, http.MethodGet, "/things/{id}", []string{"x"}, nil, nil, &out)
		assert.ErrorIs(t, err, engrami.ErrEmptyBody, "Do, body %q", b)
	}
	// The calls whose answer is kept raw (Engrami documents none) still
	// take an empty one.
	body = ""
	raw, err := c.CreateTool(ctx, &engrami.Tool{Name: "lookup", Description: "d", Parameters: &engrami.JSONSchema{Type: "object"},
		Endpoint: engrami.Endpoint{URL: "https://crm.example/x", Method: "GET"}})
	require.NoError(t, err)
	assert.Empty(t, raw)
}

// TestDoSendsQuery: Do takes a query as siro's Client.Do does (a url-tagged
// struct or url.Values), sorted and escaped; the client's tenant is always
// the tenant_id, so a query cannot reach another tenant's data; a query
// that is not one is refused before any request.
func TestDoSendsQuery(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawQuery)
		_, _ = w.Write([]byte(`{"success": true, "data": {}}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := engrami.NewClient(engrami.WithToken("t"), engrami.WithBaseURL(srv.URL), engrami.WithMaxRetries(0))
	require.NoError(t, err)
	type filter struct {
		Status string `url:"status"`
		Limit  int    `url:"limit,omitempty"`
	}
	var out map[string]any
	require.NoError(t, c.Do(ctx, http.MethodGet, "/agents", nil, filter{Status: "active & ready", Limit: 5}, nil, &out))
	require.NoError(t, c.Do(ctx, http.MethodGet, "/agents", nil, nil, nil, &out))

	scoped, err := engrami.NewClient(engrami.WithToken("t"), engrami.WithBaseURL(srv.URL), engrami.WithMaxRetries(0), engrami.WithTenantID("tenant-1"))
	require.NoError(t, err)
	q := url.Values{"tenant_id": {"tenant-2"}, "page": {"2"}}
	require.NoError(t, scoped.Do(ctx, http.MethodGet, "/agents", nil, q, nil, &out))
	assert.Equal(t, []string{"tenant-2"}, q["tenant_id"], "the caller's values are not changed")
	assert.Equal(t, []string{"limit=5&status=active+%26+ready", "", "page=2&tenant_id=tenant-1"}, got)

	err = c.Do(ctx, http.MethodGet, "/agents", nil, "status=active", nil, &out)
	assert.ErrorIs(t, err, engrami.ErrInvalidRequest)
	assert.Len(t, got, 3, "nothing sent")
}
