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
