package siro_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
)

// TestPublicErrorTypes: the errors of a call are this package's types,
// readable with errors.As, and still match the status sentinels.
func TestPublicErrorTypes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"message":"bad","issues":[{"path":["externalId"],"message":"Required","code":"invalid_type"}]}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL), siro.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEngagement(context.Background(), "e1")
	var se *siro.Error
	if !errors.As(err, &se) {
		t.Fatalf("errors.As(*siro.Error) failed on %T %v", err, err)
	}
	if se.StatusCode != 422 || se.Route != "/v1/integrations/engagements/{id}" || se.RequestID != "req-1" ||
		len(se.Issues) != 1 || se.Issues[0].PathString() != "externalId" {
		t.Fatalf("fields: %+v", se)
	}
	if !errors.Is(err, siro.ErrBadRequest) || errors.Is(err, siro.ErrNotFound) || se.Temporary() {
		t.Fatal("sentinels do not match the status")
	}

	srv.Close()
	_, err = c.GetEngagement(context.Background(), "e1")
	var re *siro.RequestError
	if !errors.As(err, &re) || re.Attempts != 1 {
		t.Fatalf("want *siro.RequestError after 1 attempt, got %T %v", err, err)
	}
}

// TestRetryDefaults: a partial policy is filled from DefaultRetry, and a
// really invalid one is refused naming the field.
func TestRetryDefaults(t *testing.T) {
	d := siro.DefaultRetry()
	if d.MaxRetries != 2 || d.BaseDelay != 500*time.Millisecond || d.MaxDelay != 30*time.Second {
		t.Fatalf("DefaultRetry = %+v", d)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`{"id":"e1"}`))
	}))
	defer srv.Close()
	var mu sync.Mutex
	var delays []time.Duration
	var infos []siro.RetryInfo
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL), siro.WithRetry(siro.RetryPolicy{
		MaxRetries: 5,
		Jitter: func(d time.Duration) time.Duration {
			mu.Lock()
			delays = append(delays, d)
			mu.Unlock()
			return 0
		},
		OnRetry: func(i siro.RetryInfo) { infos = append(infos, i) },
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEngagement(context.Background(), "e1"); err != nil {
		t.Fatal(err)
	}
	if len(delays) != 3 || delays[0] != 500*time.Millisecond || delays[1] != time.Second {
		t.Fatalf("backoffs %v: BaseDelay was not filled from DefaultRetry", delays)
	}
	var se *siro.Error
	if len(infos) != 3 || !errors.As(infos[0].Err, &se) || se.StatusCode != 502 {
		t.Fatalf("OnRetry infos %+v", infos)
	}

	for _, tc := range []struct {
		opt  siro.Option
		want string
	}{
		{siro.WithRetry(siro.RetryPolicy{MaxRetries: 1, BaseDelay: 2 * time.Second, MaxDelay: time.Second}), "siro: WithRetry: MaxDelay 1s is below BaseDelay 2s"},
		{siro.WithRetry(siro.RetryPolicy{MaxRetries: -1}), "siro: WithRetry: MaxRetries -1 is negative"},
		{siro.WithMaxRetries(-2), "siro: WithMaxRetries: -2 is negative"},
		{siro.WithOrgToken(" "), "siro: WithOrgToken: token is empty"},
		{siro.WithOrgBaseURL("ftp://x"), `siro: WithOrgBaseURL: base URL "ftp://x" must start with http:// or https://`},
	} {
		_, err := siro.NewClient(tc.opt)
		if err == nil || err.Error() != tc.want || !errors.Is(err, siro.ErrInvalidOption) {
			t.Errorf("got %v, want %q matching ErrInvalidOption", err, tc.want)
		}
	}
	// A partial policy with only BaseDelay above the default cap gets a
	// MaxDelay of at least BaseDelay.
	if _, err := siro.NewClient(siro.WithRetry(siro.RetryPolicy{MaxRetries: 1, BaseDelay: time.Minute})); err != nil {
		t.Fatal(err)
	}
}

// TestHandlerErrorPrefix: one prefix naming the constructor; a single
// secret is "secret".
func TestHandlerErrorPrefix(t *testing.T) {
	_, err := siro.NewHandler([]string{""}, siro.Callbacks{})
	if err == nil || err.Error() != "siro: NewHandler: secret is empty" {
		t.Fatalf("got %v", err)
	}
}

// TestResponseTimesAndDeletes: answer timestamps decode to time.Time
// leniently (an odd value keeps its text), and a delete Siro answers false
// is an error.
func TestResponseTimesAndDeletes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			_, _ = w.Write([]byte(`false`))
			return
		}
		_, _ = w.Write([]byte(`{"id":"e1","startTime":"2026-03-01T09:30:00.000Z","endTime":"2026-03-01 10:00:00","createdAt":"soon","updatedAt":null}`))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.GetEngagement(context.Background(), "e1")
	if err != nil {
		t.Fatal(err)
	}
	if !e.StartTime.Equal(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) || !e.EndTime.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("times: %v %v", e.StartTime, e.EndTime)
	}
	if !e.CreatedAt.Unparsed() || e.CreatedAt.Raw != "soon" || !e.UpdatedAt.IsZero() || e.UpdatedAt.Unparsed() {
		t.Fatalf("odd values: %+v %+v", e.CreatedAt, e.UpdatedAt)
	}
	if err := c.DeleteEngagement(context.Background(), "e1", nil); err == nil {
		t.Fatal("a false delete answer is not an error")
	}
	if v := siro.Ptr(45000.0); *v != 45000 {
		t.Fatal("Ptr")
	}
}
