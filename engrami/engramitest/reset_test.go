package engramitest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBudgetResetIsTheWindowsAfterRateLimitNext: once RateLimitNext's
// requests are spent, a 429 for a spent per-minute budget carries the
// window's end in X-RateLimit-Reset, not the reset RateLimitNext was
// given for its own requests (long past by then).
func TestBudgetResetIsTheWindowsAfterRateLimitNext(t *testing.T) {
	start := time.Date(2026, 11, 24, 9, 0, 30, 0, time.UTC)
	clk := webhooktest.NewFakeClock(start)
	fake := engramitest.New(engramitest.WithClock(clk), engramitest.WithRateLimit(1))
	defer fake.Close()
	secret := `{"name":"A","value":"v"}`
	fake.RateLimitNext(1, start.Add(5*time.Second))
	st, h, _ := send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
	require.Equal(t, 429, st)
	require.Equal(t, strconv.FormatInt(start.Add(5*time.Second).Unix(), 10), h.Get("X-RateLimit-Reset"))

	clk.Advance(time.Minute) // a new window: 09:01:30, ending 09:02:00
	st, _, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
	require.Equal(t, 201, st)
	st, h, _ = send(t, fake, "POST", "/api/v1/secrets", fake.Token, secret)
	require.Equal(t, 429, st, "the budget of 1 is spent")
	want := time.Date(2026, 11, 24, 9, 2, 0, 0, time.UTC).Unix()
	assert.Equal(t, strconv.FormatInt(want, 10), h.Get("X-RateLimit-Reset"), "a reset from RateLimitNext, in the past")
}
