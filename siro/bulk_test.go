package siro_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func engagements(n int) []siro.SyncEngagement {
	out := make([]siro.SyncEngagement, n)
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = siro.SyncEngagement{ExternalID: fmt.Sprintf("appt-%05d", i), Subject: "Consultation",
			StartTime: siro.At(start.Add(time.Duration(i) * time.Hour)), EndTime: siro.At(start.Add(time.Duration(i)*time.Hour + time.Hour)),
			EngagementType: &siro.EngagementType{Name: "Consultation", ActivityType: siro.ActivityAppointment}}
	}
	return out
}

// TestBulkSync10k: 10,000 engagements against the fake with latency, a
// rate limit and injected faults: every record accounted for, invalid ones
// failed with their reason, the limit never exceeded.
func TestBulkSync10k(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake := newFake(t, sirotest.WithClock(clk), sirotest.WithLatency(time.Millisecond), sirotest.WithRateLimit(1000))
	testkit.AutoAdvance(t, clk)
	c, err := fake.Client(siro.WithClock(clk), siro.WithRetry(siro.RetryPolicy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second}))
	require.NoError(t, err)
	recs := engagements(10000)
	recs[17].ExternalID = ""                                       // invalid: refused before any request
	recs[42].EndTime = siro.At(recs[42].StartTime.Add(-time.Hour)) // invalid: ends before it starts
	fake.Fail("/v1/integrations/sync/batch/engagements", 503, 2)   // retried by the core
	var mu sync.Mutex
	var last siro.BulkProgress
	calls := 0
	res, err := c.BulkSyncEngagements(context.Background(), recs, siro.BulkOptions{BatchSize: 100, Concurrency: 4, RequestsPerMinute: 900,
		OnProgress: func(p siro.BulkProgress) { mu.Lock(); last = p; calls++; mu.Unlock() }})
	require.NoError(t, err)
	assert.Len(t, res.Records, 10000)
	assert.Equal(t, 9998, res.Synced)
	assert.Equal(t, 2, res.Failed)
	fails := res.Failures()
	require.Len(t, fails, 2)
	assert.Equal(t, 17, fails[0].Index)
	assert.ErrorIs(t, fails[0].Err, siro.ErrInvalidRequest)
	assert.Contains(t, fails[1].Err.Error(), "endTime")
	assert.Equal(t, 9998, fake.EngagementCount())
	assert.Equal(t, siro.BulkProgress{Total: 10000, Done: 10000, Synced: 9998, Failed: 2, Requests: 100}, last)
	assert.Equal(t, 100, calls)
	assert.LessOrEqual(t, fake.MaxPerMinute(), 900, "client-side limiter kept under the limit")
	for _, r := range res.Records {
		if r.Err == nil {
			require.NotNil(t, r.Engagement)
			require.Equal(t, r.ExternalID, r.Engagement.ExternalID)
		}
	}
}

func TestBulkSyncIsolatesRejectedRecords(t *testing.T) {
	fake := newFake(t, sirotest.WithSyncRejects(func(ext string) (string, string) {
		if ext == "appt-00003" {
			return "engagementTypeId", "Unknown engagement type"
		}
		return "", ""
	}))
	c, _ := fake.Client()
	recs := engagements(5)
	fake.Fail("/v1/integrations/sync/batch/engagements", 400, 1) // the first call is rejected as a whole
	res, err := c.BulkSyncEngagements(context.Background(), recs, siro.BulkOptions{BatchSize: 5})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Synced)
	require.Len(t, res.Failures(), 1)
	f := res.Failures()[0]
	assert.Equal(t, 3, f.Index)
	assert.ErrorIs(t, f.Err, siro.ErrBadRequest)
	var apiErr *siro.Error
	require.ErrorAs(t, f.Err, &apiErr)
	require.Len(t, apiErr.Issues, 1)
	assert.Equal(t, "Unknown engagement type", apiErr.Issues[0].Message)
	// [0..5) 400, [0..2) ok, [2..5) 422, [2..3) ok, [3..5) 422, [3..4) 422, [4..5) ok.
	assert.Equal(t, 7, res.Requests)
	assert.Equal(t, 4, fake.EngagementCount())
}

// BenchmarkBulkSync10k measures syncing 10,000 engagements through the
// fake over loopback (batches of 100, 4 in flight, no rate limit wait).
func BenchmarkBulkSync10k(b *testing.B) {
	fake := sirotest.New() // not validated: the benchmark measures the SDK
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	if err != nil {
		b.Fatal(err)
	}
	recs := engagements(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.BulkSyncEngagements(context.Background(), recs, siro.BulkOptions{})
		if err != nil || res.Synced != 10000 {
			b.Fatal(err, res.Synced)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/record")
}
