package engrami_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type statusParams struct {
	Status int `json:"status"`
}

// TestToolErrorStatusValidated: a ToolError may only choose a 4xx or 5xx
// status. A status over 999 used to panic inside net/http and drop the
// connection; a 1xx was sent as an informational answer followed by 200,
// so Engrami read the error as a success; a 2xx or 3xx was a success.
// Each is answered 500 with the tool's code and message, and logged.
// Real HTTP over loopback, so net/http's own handling is exercised.
func TestToolErrorStatusValidated(t *testing.T) {
	var logs bytes.Buffer
	h, err := engrami.NewToolHandler("tool-secret-123", func(_ context.Context, p statusParams) (map[string]string, error) {
		return nil, &engrami.ToolError{Status: p.Status, Code: "crm_said_no", Message: "customer is archived"}
	}, engrami.WithToolLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	call := func(status int) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL, strings.NewReader(`{"status":`+jsonInt(status)+`}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer tool-secret-123")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err, "status %d: the connection must be answered, not dropped", status)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, bad := range []int{1000, 103, 100, 199, 200, 204, 302, 399, 600, 99, -1} {
		logs.Reset()
		code, body := call(bad)
		assert.Equal(t, 500, code, "ToolError.Status %d", bad)
		assert.Contains(t, body, "crm_said_no", "status %d keeps the tool's code", bad)
		assert.Contains(t, body, `"success":false`)
		assert.Contains(t, logs.String(), "ToolError.Status "+jsonInt(bad)+" is not a 4xx or 5xx status", "status %d is logged", bad)
		assert.Contains(t, logs.String(), `"level":"ERROR"`)
	}
	for _, good := range []int{400, 404, 422, 499, 500, 503, 599} {
		code, body := call(good)
		assert.Equal(t, good, code)
		assert.Contains(t, body, "customer is archived")
	}
	code, _ := call(0)
	assert.Equal(t, 500, code, "0 is the documented default")
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestToolIgnoringContextAnswered504AtDeadline: a tool that ignores its
// context is answered 504 at the deadline, like every receiver's
// watchdog, not 200 when it finally returns; its late result is dropped.
// Fake time (testing/synctest): the deadline and the tool's own wait
// pass without sleeping.
func TestToolIgnoringContextAnswered504AtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 2 * time.Second
		var logs bytes.Buffer
		finished := make(chan struct{})
		h, err := engrami.NewToolHandler("tool-secret-123", func(ctx context.Context, _ statusParams) (map[string]string, error) {
			defer close(finished)
			<-time.After(3 * timeout) // ignores ctx
			return map[string]string{"late": "result"}, nil
		}, engrami.WithToolTimeout(timeout), engrami.WithToolLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		require.NoError(t, err)
		req := httptest.NewRequest("POST", "/tools/slow", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer tool-secret-123")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		assert.Equal(t, timeout, time.Since(start), "answered at the deadline, not when the tool returned")
		assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
		assert.Contains(t, rec.Body.String(), `"code":"timeout"`)
		assert.NotContains(t, rec.Body.String(), "late")
		assert.Contains(t, logs.String(), `"status":504`)
		<-finished      // the tool still runs past the answer...
		synctest.Wait() // ...and its goroutine exits before the bubble ends
		assert.Equal(t, 3*timeout, time.Since(start))
	})
}

// TestToolTimeoutOverLoopback: the same over a real connection with a
// short real deadline; the tool blocks until the test has its answer, so
// nothing sleeps, and the connection is answered while the tool still
// runs.
func TestToolTimeoutOverLoopback(t *testing.T) {
	release := make(chan struct{})
	h, err := engrami.NewToolHandler("tool-secret-123", func(context.Context, statusParams) (map[string]string, error) {
		<-release // ignores ctx
		return map[string]string{"late": "result"}, nil
	}, engrami.WithToolTimeout(50*time.Millisecond))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release) // runs before srv.Close: the tool returns, the server can close
	req, err := http.NewRequest("POST", srv.URL, strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tool-secret-123")
	client := *srv.Client()
	client.Timeout = 10 * time.Second // a bound for a broken handler, never waited out when it works
	resp, err := client.Do(req)
	require.NoError(t, err, "answered at the deadline while the tool still runs")
	defer resp.Body.Close()
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
}
