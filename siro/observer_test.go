package siro_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// recorder is this test's own siro.ClientObserver.
type recorder struct {
	mu       sync.Mutex
	calls    []string
	attempts []int
	statuses []int
	waits    []time.Duration
	limiter  int
}

func (r *recorder) StartCall(ctx context.Context, service, op string) (context.Context, func(int, error)) {
	r.mu.Lock()
	r.calls = append(r.calls, service+" "+op)
	r.mu.Unlock()
	return ctx, func(status int, err error) {
		r.mu.Lock()
		r.calls = append(r.calls, "end")
		r.mu.Unlock()
	}
}

func (r *recorder) StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(int, error, time.Duration)) {
	r.mu.Lock()
	r.attempts = append(r.attempts, attempt)
	r.mu.Unlock()
	return ctx, func(status int, err error, wait time.Duration) {
		r.mu.Lock()
		r.statuses = append(r.statuses, status)
		r.waits = append(r.waits, wait)
		r.mu.Unlock()
	}
}

func (r *recorder) LimiterWait(context.Context, time.Duration) {
	r.mu.Lock()
	r.limiter++
	r.mu.Unlock()
}

func (r *recorder) TokenMint(context.Context, time.Duration, error) {}

// TestWithObserverSeesRetriedCall: a GetRecording answered 503 with
// Retry-After, then 200, is one call on "siro-org" named by its operation
// (never its URL), two attempts, the planned wait on the first.
func TestWithObserverSeesRetriedCall(t *testing.T) {
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
	rec := &recorder{}
	c, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithOrgBaseURL(srv.URL), siro.WithClock(clk), siro.WithObserver(rec))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := c.GetRecording(context.Background(), "rec_1", nil)
		done <- err
	}()
	require.True(t, clk.BlockUntilWaiters(1, 10*time.Second))
	d, _ := clk.NextWait()
	clk.Advance(d)
	require.NoError(t, <-done)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, []string{"siro-org Recordings.Get", "end"}, rec.calls)
	assert.Equal(t, []int{1, 2}, rec.attempts)
	assert.Equal(t, []int{503, 200}, rec.statuses)
	require.Len(t, rec.waits, 2)
	assert.Equal(t, d, rec.waits[0], "the wait reported is the wait made")
	assert.GreaterOrEqual(t, rec.waits[0], 2*time.Second)
	assert.Zero(t, rec.waits[1])
	assert.Equal(t, 2, rec.limiter, "the default limiter is waited on before each attempt")
}

func TestWithObserverNilRefused(t *testing.T) {
	_, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithObserver(nil))
	require.ErrorContains(t, err, "WithObserver")
}
