package sirosql

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/bulksim"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	_ "github.com/jackc/pgx/v5/stdlib" // test-only drivers
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

var start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func TestOptionsValidate(t *testing.T) {
	db, _ := sql.Open("pgx", "postgres://invalid")
	for _, name := range []string{"", "x; DROP TABLE users", "a.b.c", "1abc", "t-1", `"quoted"`} {
		_, err := NewCheckpoint(db, "job", WithTable(name))
		assert.ErrorIs(t, err, siro.ErrInvalidOption, name)
		_, err = NewLimiter(db, "b", 100, WithTable(name))
		assert.ErrorIs(t, err, siro.ErrInvalidOption, name)
		_, err = CheckpointDDL(name)
		assert.ErrorIs(t, err, siro.ErrInvalidOption, name)
		_, err = LimiterDDL(name)
		assert.ErrorIs(t, err, siro.ErrInvalidOption, name)
	}
	_, err := NewCheckpoint(nil, "job")
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewCheckpoint(db, "")
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewLimiter(db, "", 100)
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewLimiter(db, "b", 0)
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewLimiter(db, "b", 10, WithBurst(11))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewLimiter(db, "b", 10, WithBurst(0))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = NewLimiter(db, "b", 10, WithClock(nil))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	ddl, err := LimiterDDL("crm.siro_rate_limit")
	require.NoError(t, err)
	assert.Contains(t, ddl[0], "CREATE TABLE IF NOT EXISTS crm.siro_rate_limit (")
}

func TestCheckpointRoundTrip(t *testing.T) { sqldbtest.Each(t, "sirosql.db", testCheckpointRoundTrip) }

func testCheckpointRoundTrip(t *testing.T, be sqldbtest.Backend) {
	ctx := context.Background()
	db := be.Open(t)
	table := sqldbtest.Table(t, db, "cp_test")
	a, err := NewCheckpoint(db, "engagements", WithTable(table))
	require.NoError(t, err)
	require.NoError(t, a.CreateTable(ctx))
	require.NoError(t, a.CreateTable(ctx), "idempotent")
	b, err := NewCheckpoint(db, "opportunities", WithTable(table))
	require.NoError(t, err)
	n, err := a.Load(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "never saved")
	require.NoError(t, a.Save(ctx, 1200))
	require.NoError(t, b.Save(ctx, 7))
	require.NoError(t, a.Save(ctx, 1300))
	n, _ = a.Load(ctx)
	assert.Equal(t, int64(1300), n)
	n, _ = b.Load(ctx)
	assert.Equal(t, int64(7), n, "jobs are separate")
	assert.Error(t, a.Save(ctx, -1))
	require.NoError(t, a.Reset(ctx))
	n, _ = a.Load(ctx)
	assert.Zero(t, n)
	missing, _ := NewCheckpoint(db, "x", WithTable(table+"_missing"))
	_, err = missing.Load(ctx)
	assert.ErrorContains(t, err, `sirosql: loading checkpoint "x"`)
}

func engagements(prefix string, n int) iter.Seq2[siro.SyncEngagement, error] {
	return func(yield func(siro.SyncEngagement, error) bool) {
		for i := range n {
			if !yield(siro.SyncEngagement{ExternalID: fmt.Sprintf("%s-%05d", prefix, i), Subject: "Visit"}, nil) {
				return
			}
		}
	}
}

// TestSharedLimiterFourClients: four clients, each with its own *sql.DB
// pool and its own sirosql.Limiter on the same bucket, sync at once with
// one token; the fake (Siro's window limit on its fake clock) never sees
// more than the configured rate in any 60-second window, and the run takes
// the rate's time. The same run with four in-process limiters overshoots,
// which shows the check can fail.
func TestSharedLimiterFourClients(t *testing.T) {
	sqldbtest.Each(t, "sirosql.db", testSharedLimiterFourClients)
}

func testSharedLimiterFourClients(t *testing.T, be sqldbtest.Backend) {
	const rate, clients, conc, perClient, batch = 60, 4, 2, 1000, 10
	db0 := be.Open(t)
	table := sqldbtest.Table(t, db0, "rl_test")
	run := func(shared bool) (maxSeen, limited, requests int, elapsed time.Duration, synced int64) {
		clk := clock.NewFake(start)
		var mu sync.Mutex
		seen := map[string]int{}
		fake := sirotest.New(sirotest.WithClock(clk), sirotest.WithWindowRateLimit(rate),
			sirotest.WithStatelessSync(func(_, ext string) { mu.Lock(); seen[ext]++; mu.Unlock() }))
		defer fake.Close()
		sm := bulksim.New(clk, fake)
		stop := sm.Run()
		defer stop()
		var wg sync.WaitGroup
		var total atomic.Int64
		for i := range clients {
			var lim siro.Limiter
			if shared {
				db := be.Open(t)
				l, err := NewLimiter(db, "siro-org-test", rate, WithTable(table), WithClock(clk))
				require.NoError(t, err)
				require.NoError(t, l.CreateTable(context.Background()))
				lim = sm.Limiter(l.Reserve)
			} else {
				l, err := siro.NewLimiter(siro.LimiterConfig{PerMinute: rate, Clock: clk})
				require.NoError(t, err)
				lim = sm.Limiter(func(context.Context) (time.Time, error) { return l.Reserve(), nil })
			}
			c, err := fake.Client(siro.WithClock(clk), siro.WithLimiter(lim), siro.WithRetry(siro.RetryPolicy{}))
			require.NoError(t, err)
			wg.Add(1)
			go func() {
				defer wg.Done()
				sum, err := c.StreamSyncEngagements(context.Background(), engagements(fmt.Sprintf("c%d", i), perClient),
					siro.BulkOptions{BatchSize: batch, Concurrency: conc}, nil)
				assert.NoError(t, err)
				total.Add(int64(sum.Synced))
			}()
		}
		wg.Wait()
		mu.Lock()
		for ext, n := range seen {
			assert.Equal(t, 1, n, ext)
		}
		mu.Unlock()
		return fake.MaxInWindow(), fake.RateLimited(), int(fake.RequestCount()), clk.Now().Sub(start), total.Load()
	}

	maxSeen, limited, requests, sim, synced := run(true)
	assert.Equal(t, int64(clients*perClient), synced)
	assert.Equal(t, clients*perClient/batch, requests)
	assert.LessOrEqual(t, maxSeen, rate, "never more than the rate in any 60-s window")
	assert.Zero(t, limited, "no 429")
	bound := time.Duration(requests) * time.Minute / rate
	assert.InDelta(t, bound.Seconds(), sim.Seconds(), 0.05*bound.Seconds(), "paced at the shared rate")
	t.Logf("shared %s limiter: %d requests from %d clients, max %d in any 60 s (rate %d), %d refused, sim %v (bound %v)",
		be.Name, requests, clients, maxSeen, rate, limited, sim, bound)

	maxSeen, limited, _, _, _ = run(false)
	assert.Greater(t, maxSeen, rate, "per-process limiters overshoot together")
	t.Logf("four in-process limiters instead: max %d in a 60-s window, %d refused with 429", maxSeen, limited)
}

// TestCheckpointKillAndResume: a run cancelled midway resumes in a "new
// process" (another pool, another Checkpoint value) from the saved index.
func TestCheckpointKillAndResume(t *testing.T) {
	sqldbtest.Each(t, "sirosql.db", testCheckpointKillAndResume)
}

func testCheckpointKillAndResume(t *testing.T, be sqldbtest.Backend) {
	ctx := context.Background()
	const n = 2000
	db := be.Open(t)
	table := sqldbtest.Table(t, db, "cp_test")
	var mu sync.Mutex
	seen := map[string]int{}
	fake := sirotest.New(sirotest.WithStatelessSync(func(_, ext string) { mu.Lock(); seen[ext]++; mu.Unlock() }))
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	cp, err := NewCheckpoint(db, "backfill", WithTable(table))
	require.NoError(t, err)
	require.NoError(t, cp.CreateTable(ctx))
	cctx, cancel := context.WithCancel(ctx)
	var doneAtKill int
	sum1, err := c.StreamSyncEngagements(cctx, engagements("e", n), siro.BulkOptions{BatchSize: 50, Checkpoint: cp,
		OnProgress: func(p siro.BulkProgress) {
			if p.Done >= 900 && doneAtKill == 0 {
				doneAtKill = p.Done
				cancel()
			}
		}}, nil)
	require.ErrorIs(t, err, context.Canceled)
	saved, err := cp.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(sum1.Settled), saved)
	// Batches finish out of order: the checkpoint is the contiguous settled
	// prefix, at or below what was done when the run was killed.
	assert.Positive(t, saved)
	assert.LessOrEqual(t, saved, int64(sum1.Synced+sum1.Failed))

	db2 := be.Open(t)
	cp2, err := NewCheckpoint(db2, "backfill", WithTable(table))
	require.NoError(t, err)
	sum2, err := c.StreamSyncEngagements(ctx, engagements("e", n), siro.BulkOptions{BatchSize: 50, Checkpoint: cp2}, nil)
	require.NoError(t, err)
	assert.Equal(t, int(saved), sum2.Skipped)
	assert.Equal(t, n, sum2.Settled)
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, seen, n, "every record synced")
	twice := 0
	for _, k := range seen {
		if k > 1 {
			twice++
		}
	}
	// Replayed: records done past the checkpoint's gap when killed, plus
	// the batches in flight; never more.
	assert.LessOrEqual(t, twice, sum1.Synced+sum1.Failed-int(saved)+siro.DefaultBulkConcurrency*50, "at most the records past the checkpoint replayed")
	t.Logf("checkpoint %d after the kill; resume skipped %d, synced %d; replayed %d", saved, sum2.Skipped, sum2.Synced, twice)
}
