package siro_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBulkHugeOptionsNoPanic: absurd BatchSize and Concurrency are bad
// input: a clear error naming the option, never a panic (a batch size
// preallocated whole panicked with "makeslice: cap out of range").
func TestBulkHugeOptionsNoPanic(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	for _, o := range []siro.BulkOptions{{BatchSize: 1 << 50}, {Concurrency: 1 << 40}} {
		var res *siro.BulkResult
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%+v: panicked: %v", o, p)
				}
			}()
			res, err = c.BulkSyncEngagements(context.Background(), engagements(3), o)
		}()
		if t.Failed() {
			continue
		}
		require.ErrorIs(t, err, siro.ErrInvalidOption, "%+v", o)
		assert.Contains(t, err.Error(), map[bool]string{true: "BatchSize", false: "Concurrency"}[o.BatchSize != 0])
		require.NotNil(t, res)
		assert.Zero(t, fake.RequestCount(), "nothing sent")
	}
}

// TestBulkDuplicateExternalIDInOneBatch: two records with one externalId
// in one batch would both be upserted, in an order Siro does not promise,
// and both reported synced with the same Siro record. The later one fails
// with an error naming the earlier one; the first is synced once.
func TestBulkDuplicateExternalIDInOneBatch(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	fake := sirotest.New(sirotest.WithStatelessSync(func(_, ext string) { mu.Lock(); seen[ext]++; mu.Unlock() }))
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	recs := engagements(4)
	recs[2].ExternalID = recs[0].ExternalID
	recs[2].Subject = "Changed"
	res, err := c.BulkSyncEngagements(context.Background(), recs, siro.BulkOptions{BatchSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Synced)
	require.Len(t, res.Failures(), 1)
	f := res.Failures()[0]
	assert.Equal(t, 2, f.Index)
	require.ErrorIs(t, f.Err, siro.ErrInvalidRequest)
	assert.Contains(t, f.Err.Error(), recs[0].ExternalID)
	assert.Contains(t, f.Err.Error(), "record 0")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, seen[recs[0].ExternalID], "sent once")
}

// TestBulkResumedRunCancelledKeepsSkippedSettled: a resumed run (records
// below the checkpoint skipped) that is then cancelled must not report the
// skipped records, settled by the earlier run, as failed with the
// context's error.
func TestBulkResumedRunCancelledKeepsSkippedSettled(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	cp := &siro.MemoryCheckpoint{}
	require.NoError(t, cp.Save(context.Background(), 10))
	ctx, cancel := context.WithCancel(context.Background())
	res, err := c.BulkSyncEngagements(ctx, engagements(30), siro.BulkOptions{BatchSize: 5, Concurrency: 1, Checkpoint: cp,
		OnProgress: func(p siro.BulkProgress) {
			if p.Done >= 5 {
				cancel()
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	for i := range 10 {
		assert.NoError(t, res.Records[i].Err, "record %d was settled by the earlier run", i)
	}
	unsettled := 0
	for _, r := range res.Records[10:] {
		if r.Err != nil {
			unsettled++
		}
	}
	assert.Equal(t, unsettled, res.Failed, "Failed counts only this run's failures")
	assert.Equal(t, 30-10-unsettled, res.Synced)
}

// TestBulkCancelWhileSkippingStopsPromptly: cancelled while skipping the
// records below the checkpoint, a run stops reading the input at once and
// returns the context's error.
func TestBulkCancelWhileSkippingStopsPromptly(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	cp := &siro.MemoryCheckpoint{}
	require.NoError(t, cp.Save(context.Background(), 1_000_000))
	ctx, cancel := context.WithCancel(context.Background())
	read := 0
	in := func(yield func(siro.SyncEngagement, error) bool) {
		for i := range 2_000_000 {
			read++
			if i == 10 {
				cancel()
			}
			if !yield(siro.SyncEngagement{ExternalID: fmt.Sprint("e-", i)}, nil) {
				return
			}
		}
	}
	sum, err := c.StreamSyncEngagements(ctx, in, siro.BulkOptions{Checkpoint: cp}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.LessOrEqual(t, read, 12, "stopped reading soon after the cancellation")
	assert.Equal(t, sum.Read, sum.Skipped)
	assert.Zero(t, fake.RequestCount())
	saved, _ := cp.Load(context.Background())
	assert.Equal(t, int64(1_000_000), saved, "checkpoint untouched")
}

// TestBulkCallbackPanicReachesCaller: a panic in each or OnProgress runs
// on a worker goroutine; it must reach the caller's goroutine (where a
// recover can catch it) instead of crashing the process.
func TestBulkCallbackPanicReachesCaller(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	for _, where := range []string{"each", "OnProgress"} {
		t.Run(where, func(t *testing.T) {
			o := siro.BulkOptions{BatchSize: 2, Concurrency: 2}
			var each func(siro.BulkItem[siro.Engagement])
			boom := func() { panic("boom in " + where) }
			if where == "each" {
				each = func(siro.BulkItem[siro.Engagement]) { boom() }
			} else {
				o.OnProgress = func(siro.BulkProgress) { boom() }
			}
			in := func(yield func(siro.SyncEngagement, error) bool) {
				for _, e := range engagements(20) {
					if !yield(e, nil) {
						return
					}
				}
			}
			var got any
			func() {
				defer func() { got = recover() }()
				_, _ = c.StreamSyncEngagements(context.Background(), in, o, each)
			}()
			assert.Equal(t, "boom in "+where, got)
		})
	}
}

// TestBulkErrorsNeverHoldTheOrgToken: a rejection whose body echoes the
// request's credential (a proxy, a debug page) fails the records with an
// error that does not carry the org token.
func TestBulkErrorsNeverHoldTheOrgToken(t *testing.T) {
	const tok = "siro-org-token-SECRET-4711"
	fake := sirotest.New(sirotest.WithMiddleware(func(_ siro.Host, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			_, _ = fmt.Fprintf(w, `{"error":"forbidden for %s"}`, r.Header.Get("Authorization"))
		})
	}))
	defer fake.Close()
	c, err := siro.NewClient(siro.WithOrgToken(tok), siro.WithOrgBaseURL(fake.OrgURL()), siro.WithLimiter(siro.Unlimited{}),
		siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	res, err := c.BulkSyncEngagements(context.Background(), engagements(3), siro.BulkOptions{})
	require.NoError(t, err)
	require.Len(t, res.Failures(), 3)
	for _, f := range res.Failures() {
		assert.NotContains(t, f.Err.Error(), tok)
		assert.NotContains(t, fmt.Sprintf("%+v", f.Err), tok)
		var apiErr *siro.Error
		require.ErrorAs(t, f.Err, &apiErr)
		assert.NotContains(t, string(apiErr.Body), tok)
	}
}
