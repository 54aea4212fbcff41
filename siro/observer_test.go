package siro_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestWithObserverSeesRetriedCall: a GetRecording answered 503 with
// Retry-After, then 200, is one call on "siro-org" named by its operation
// (never its URL), two attempts, the planned wait on the first.
func TestWithObserverSeesRetriedCall(t *testing.T) {
	srv, _ := testkit.FailOnce(t, http.StatusServiceUnavailable, "2", `{"id":"rec_1"}`)
	clk := webhooktest.NewFakeClock(time.Now())
	rec := &testkit.ClientRecorder{}
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
	got := rec.Recorded()
	assert.Equal(t, []string{"siro-org Recordings.Get", "end"}, got.Calls)
	assert.Equal(t, []int{1, 2}, got.Attempts)
	assert.Equal(t, []int{503, 200}, got.Statuses)
	require.Len(t, got.Waits, 2)
	assert.Equal(t, d, got.Waits[0], "the wait reported is the wait made")
	assert.GreaterOrEqual(t, got.Waits[0], 2*time.Second)
	assert.Zero(t, got.Waits[1])
	assert.Equal(t, 2, got.LimiterWaits, "the default limiter is waited on before each attempt")
}

func TestWithObserverNilRefused(t *testing.T) {
	_, err := siro.NewClient(siro.WithOrgToken("tok"), siro.WithObserver(nil))
	require.ErrorContains(t, err, "WithObserver")
}
