// This test drives the adapter through the real siro client over
// loopback. It needs siro.WithObserver (branch perf); remove the build tag
// when it is on main.

package otelcallcrm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// One Observer value fits every client's WithObserver.
var (
	_ siro.ClientObserver    = (*otelcallcrm.Observer)(nil)
	_ engrami.ClientObserver = (*otelcallcrm.Observer)(nil)
)

// A siro call answered 503 with Retry-After, then 200: one client span for
// the call, two attempt spans under it, the wait made recorded on the
// first; one request and one retry counted; the token nowhere.
func TestSiroClientRetryAfter503(t *testing.T) {
	h := newHarness(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"id":"rec_1"}`))
	}))
	defer srv.Close()
	clk := webhooktest.NewFakeClock(time.Now())
	c, err := siro.NewClient(siro.WithOrgToken(apiKey), siro.WithOrgBaseURL(srv.URL), siro.WithClock(clk), siro.WithObserver(h.obs))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.GetRecording(context.Background(), "rec_1", nil)
		done <- err
	}()
	if !clk.BlockUntilWaiters(1, 10*time.Second) {
		t.Fatal("the client never waited to retry")
	}
	wait, _ := clk.NextWait()
	clk.Advance(wait)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var calls, attempts []sdktrace.ReadOnlySpan
	for _, s := range h.Ended() {
		switch s.SpanKind() {
		case trace.SpanKindClient:
			if _, ok := attr(s, otelcallcrm.AttrOperation); ok {
				calls = append(calls, s)
			} else {
				attempts = append(attempts, s)
			}
		}
	}
	if len(calls) != 1 || len(attempts) != 2 {
		t.Fatalf("%d call spans and %d attempt spans, want 1 and 2: %s", len(calls), len(attempts), oteltest.SpanNames(h.Ended()))
	}
	call := calls[0]
	wantAttr(t, call, otelcallcrm.AttrService, "siro-org")
	wantAttr(t, call, "http.response.status_code", 200)
	for _, a := range attempts {
		wantParent(t, a, call)
	}
	first, second := attempts[0], attempts[1]
	if v, _ := attr(first, otelcallcrm.AttrAttempt); v.AsInt64() != 1 {
		first, second = second, first
	}
	wantAttr(t, first, "http.response.status_code", 503)
	wantAttr(t, first, otelcallcrm.AttrRetryWait, wait.Seconds())
	if first.Status().Code != codes.Error {
		t.Errorf("the 503 attempt's status is %v", first.Status())
	}
	wantAttr(t, second, otelcallcrm.AttrAttempt, 2)
	wantAttr(t, second, "http.response.status_code", 200)

	rm := h.Collect(t)
	op, _ := attr(call, otelcallcrm.AttrOperation)
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRequests, map[string]any{"callcrm.service": "siro-org", "callcrm.operation": op.AsString(), "http.response.status_code": 200}); got != 1 {
		t.Errorf("client requests = %v, want 1", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRetries, map[string]any{"callcrm.service": "siro-org"}); got != 1 {
		t.Errorf("client retries = %v, want 1", got)
	}
	if got := oteltest.Count(rm, otelcallcrm.MetricRateLimitWait, map[string]any{"callcrm.service": "siro-org"}); got != 2 {
		t.Errorf("rate limit waits = %v, want 2 (one per attempt)", got)
	}
	h.AssertNoSecret(t, apiKey, srv.URL)
}
