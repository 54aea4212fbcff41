package engrami_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type attackParams struct {
	Phone string `json:"phone"`
}

type attackResult struct {
	Name string `json:"name"`
}

// callAttackTool posts {"phone":"x"} with the right bearer token over
// loopback and returns the status (0 when the connection was dropped).
func callAttackTool(t *testing.T, h http.Handler) int {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"phone":"x"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer crm-key")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAttackToolGoexitIsNot200: a tool function that ends its goroutine
// with runtime.Goexit (t.FailNow in a test double, a helper that calls
// it) never returned a result, yet callTool's deferred send delivers the
// zero result with a nil error and Engrami is answered 200 with an empty
// result: a failed tool call reads as success.
func TestAttackToolGoexitIsNot200(t *testing.T) {
	h, err := engrami.NewToolHandler("crm-key", func(context.Context, attackParams) (attackResult, error) {
		runtime.Goexit()
		return attackResult{Name: "never"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, callAttackTool(t, h))
}

// TestAttackToolTypedNilToolErrorAnswers500: a tool returning a typed nil
// *ToolError as its error (the classic Go pitfall) makes errors.As hand
// back a nil *ToolError whose Status is read: the handler panics and
// net/http drops the connection instead of answering 500.
func TestAttackToolTypedNilToolErrorAnswers500(t *testing.T) {
	h, err := engrami.NewToolHandler("crm-key", func(context.Context, attackParams) (attackResult, error) {
		var te *engrami.ToolError
		return attackResult{}, te
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, callAttackTool(t, h))
}
