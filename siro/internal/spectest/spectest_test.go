package spectest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepairs pins the documents' own defects: a new copy of the documents
// with other defects fails here.
func TestRepairs(t *testing.T) {
	s, err := spectest.Load()
	require.NoError(t, err)
	for _, r := range s.Repairs {
		t.Log(r)
	}
	var params int
	for _, r := range s.Repairs {
		if strings.Contains(r, "declare path parameter") {
			params++
		}
	}
	assert.Equal(t, 12, params, "Siro's README: 12 path parameters are used but not declared")
	assert.Contains(t, s.Repairs, `org: declare path parameter "id" of GET /v1/integrations/users/{id}/engagements`)
	assert.Len(t, s.Operations(spectest.Org), 69)
	assert.Len(t, s.Operations(spectest.User), 145)
}

// TestValidatorCatches proves the validator fails what Siro's documents
// reject: an unknown route, a missing credential, a bad body, a null
// where an array is required.
func TestValidatorCatches(t *testing.T) {
	v, err := spectest.NewValidator()
	require.NoError(t, err)
	srv := httptest.NewServer(v.Wrap(spectest.Org, spectest.RequestsAndResponses, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"id":"e","externalId":"x","engagementType":"t","createdAt":"c","updatedAt":"u","organizationId":"o","engagementUsers":null}}`)
	})))
	defer srv.Close()
	send := func(method, path, auth, body string) {
		req, _ := http.NewRequest(method, srv.URL+"/api-externalApi"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	send("GET", "/v1/no/such/route", "Bearer t", "")
	send("PUT", "/v1/integrations/sync/engagements", "", `{"externalId":"x"}`)
	send("PUT", "/v1/integrations/sync/engagements", "Bearer t", `{"externalId":"x","direction":"SIDEWAYS"}`)
	got := strings.Join(v.Violations(), "\n")
	assert.Contains(t, got, "no such operation")
	assert.Contains(t, got, "Authorization")
	assert.Contains(t, got, "/direction")
	assert.Contains(t, got, "at /data/engagementUsers: Value is not nullable")
}
