package siro_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/bulksim"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var simStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func rateLimiter(tb testing.TB, perMinute int, clk *clock.Fake) func(context.Context) (time.Time, error) {
	l, err := siro.NewLimiter(siro.LimiterConfig{PerMinute: perMinute, Clock: clk})
	require.NoError(tb, err)
	return func(context.Context) (time.Time, error) { return l.Reserve(), nil }
}

// upserts counts the fake's upserts per record number ("eng-0000042" -> 42).
type upserts struct {
	mu     sync.Mutex
	counts []uint8
	other  int
}

func newUpserts(n int) *upserts { return &upserts{counts: make([]uint8, n)} }

func (u *upserts) add(_, ext string) {
	i, err := strconv.Atoi(ext[strings.LastIndexByte(ext, '-')+1:])
	u.mu.Lock()
	defer u.mu.Unlock()
	if err != nil || i < 0 || i >= len(u.counts) {
		u.other++
		return
	}
	if u.counts[i] < 255 {
		u.counts[i]++
	}
}

// tally returns how many records were never upserted and how many more
// than once.
func (u *upserts) tally() (lost, twice int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.counts {
		switch {
		case c == 0:
			lost++
		case c > 1:
			twice++
		}
	}
	return lost, twice
}

func engagementSeq(n int) iter.Seq2[siro.SyncEngagement, error] {
	return func(yield func(siro.SyncEngagement, error) bool) {
		for i := range n {
			st := simStart.Add(time.Duration(i) * time.Minute)
			e := siro.SyncEngagement{ExternalID: fmt.Sprintf("eng-%07d", i), Subject: "Consultation",
				StartTime: siro.At(st), EndTime: siro.At(st.Add(time.Hour)),
				EngagementType: &siro.EngagementType{Name: "Consultation", ActivityType: siro.ActivityAppointment}}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func opportunitySeq(n int) iter.Seq2[siro.SyncOpportunity, error] {
	return func(yield func(siro.SyncOpportunity, error) bool) {
		for i := range n {
			amt := float64(i)
			o := siro.SyncOpportunity{ExternalID: fmt.Sprintf("opp-%07d", i), Name: "Kitchen remodel", Amount: &amt, Disposition: siro.DispositionOpen}
			if !yield(o, nil) {
				return
			}
		}
	}
}

// scaleRun is one measured run of the streaming bulk sync.
type scaleRun struct {
	records, requests, synced, failed, lost, twice int
	peakHeapMiB, simMin, boundMin                  float64
	rateLimited, maxInWindow                       int
}

// newSim returns a fake enforcing Siro's 1,000 requests per minute on a
// fake clock and counting the upserts of n records, its simulation, and a
// client limited to the same rate. The fake is closed when tb ends.
func newSim(tb testing.TB, n int) (*clock.Fake, *upserts, *sirotest.Server, *bulksim.Sim, *siro.Client) {
	clk := clock.NewFake(simStart)
	ups := newUpserts(n)
	fake := sirotest.New(sirotest.WithClock(clk), sirotest.WithWindowRateLimit(siro.SiroRequestsPerMinute), sirotest.WithStatelessSync(ups.add))
	tb.Cleanup(fake.Close)
	sm := bulksim.New(clk, fake)
	c, err := fake.Client(siro.WithClock(clk), siro.WithLimiter(sm.Limiter(rateLimiter(tb, siro.SiroRequestsPerMinute, clk))))
	require.NoError(tb, err)
	return clk, ups, fake, sm, c
}

// runScale syncs n records of kind through the fake with Siro's 1,000 per
// minute enforced on a fake clock, the client limited to the same rate,
// and samples HeapInuse throughout.
func runScale(tb testing.TB, kind string, n int) scaleRun {
	const batch, conc = 100, 4
	clk, ups, fake, sm, c := newSim(tb, n)
	var err error

	runtime.GC()
	var peak uint64
	sampleDone, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-sampleDone:
				return
			case <-t.C:
			}
		}
	}()
	stop := sm.Run()
	o := siro.BulkOptions{BatchSize: batch, Concurrency: conc}
	var sum siro.BulkSummary
	switch kind {
	case "engagements":
		sum, err = c.StreamSyncEngagements(context.Background(), engagementSeq(n), o, nil)
	default:
		sum, err = c.StreamSyncOpportunities(context.Background(), opportunitySeq(n), o, nil)
	}
	stop()
	close(sampleDone)
	<-sampled
	require.NoError(tb, err)
	lost, twice := ups.tally()
	return scaleRun{records: n, requests: int(fake.RequestCount()), synced: sum.Synced, failed: sum.Failed, lost: lost, twice: twice,
		peakHeapMiB: float64(peak) / (1 << 20), simMin: clk.Now().Sub(simStart).Minutes(),
		boundMin:    float64(sum.Requests) / siro.SiroRequestsPerMinute,
		rateLimited: fake.RateLimited(), maxInWindow: fake.MaxInWindow()}
}

func checkScale(tb testing.TB, r scaleRun) {
	tb.Helper()
	wantReq := (r.records + 99) / 100
	assert.Equal(tb, 0, r.lost, "lost records")
	assert.Equal(tb, 0, r.twice, "records upserted twice")
	assert.Equal(tb, r.records, r.synced)
	assert.Equal(tb, wantReq, r.requests, "requests = ceil(N/batch)")
	assert.Equal(tb, 0, r.rateLimited, "no 429")
	assert.LessOrEqual(tb, r.maxInWindow, siro.SiroRequestsPerMinute)
	assert.InDelta(tb, r.boundMin, r.simMin, 0.05*r.boundMin, "simulated time within 5%% of the rate bound")
	assert.Less(tb, r.peakHeapMiB, 64.0, "peak HeapInuse")
}

// TestBulkSync100k is the 100k variant of BenchmarkBulkSync1M, for
// engagements and opportunities. Under the race detector (about 8 ms per
// simulated request) it runs 10k records instead, to stay fast.
func TestBulkSync100k(t *testing.T) {
	n := 100_000
	if raceEnabled {
		t.Log("race detector on: 10,000 records instead of 100,000")
		n = 10_000
	}
	for _, kind := range []string{"engagements", "opportunities"} {
		t.Run(kind, func(t *testing.T) {
			r := runScale(t, kind, n)
			checkScale(t, r)
			t.Logf("%s: records=%d requests=%d peak-heap-MiB=%.1f sim-min=%.3f rate-bound-min=%.3f max-in-60s=%d",
				kind, r.records, r.requests, r.peakHeapMiB, r.simMin, r.boundMin, r.maxInWindow)
		})
	}
}

// BenchmarkBulkSync1M: one iteration syncs 1,000,000 records through the
// fake with Siro's 1,000/min limit enforced on a fake clock.
func BenchmarkBulkSync1M(b *testing.B) {
	for _, kind := range []string{"engagements", "opportunities"} {
		b.Run(kind, func(b *testing.B) {
			var r scaleRun
			for range b.N {
				r = runScale(b, kind, 1_000_000)
				checkScale(b, r)
			}
			b.ReportMetric(float64(r.records), "records")
			b.ReportMetric(float64(r.requests), "requests")
			b.ReportMetric(r.peakHeapMiB, "peak-heap-MiB")
			b.ReportMetric(r.simMin, "sim-min")
			b.ReportMetric(r.boundMin, "rate-bound-min")
		})
	}
}

// TestBulkSyncBisection: 10,000 engagements, 1% of them (scattered at
// random) refused by Siro: each fails alone with its own 422 issue, every
// other record is synced once, and the extra calls stay within 2k*log2(n).
func TestBulkSyncBisection(t *testing.T) {
	const n, batch = 10_000, 100
	rng := rand.New(rand.NewPCG(17, 17))
	bad := map[string]bool{}
	for len(bad) < n/100 {
		bad[fmt.Sprintf("eng-%07d", rng.IntN(n))] = true
	}
	ups := newUpserts(n)
	fake := sirotest.New(sirotest.WithStatelessSync(ups.add), sirotest.WithSyncRejects(func(ext string) (string, string) {
		if bad[ext] {
			return "engagementTypeId", "Unknown engagement type for " + ext
		}
		return "", ""
	}))
	defer fake.Close()
	c, err := fake.Client(siro.WithLimiter(siro.Unlimited{}))
	require.NoError(t, err)
	failed := map[int]error{}
	sum, err := c.StreamSyncEngagements(context.Background(), engagementSeq(n), siro.BulkOptions{BatchSize: batch},
		func(it siro.BulkItem[siro.Engagement]) {
			if it.Err != nil {
				failed[it.Index] = it.Err
			} else if it.Record == nil || it.Record.ExternalID != it.ExternalID {
				t.Errorf("record %d: no or wrong Siro record", it.Index)
			}
		})
	require.NoError(t, err)
	assert.Equal(t, n-len(bad), sum.Synced)
	assert.Equal(t, len(bad), sum.Failed)
	require.Len(t, failed, len(bad))
	for i, err := range failed {
		ext := fmt.Sprintf("eng-%07d", i)
		require.True(t, bad[ext], "only refused records fail: %s", ext)
		var apiErr *siro.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 422, apiErr.StatusCode)
		require.Len(t, apiErr.Issues, 1, "its own issue only")
		assert.Equal(t, "Unknown engagement type for "+ext, apiErr.Issues[0].Message)
	}
	lost, twice := ups.tally()
	assert.Equal(t, len(bad), lost, "only the refused ones are missing")
	assert.Equal(t, 0, twice)
	k := float64(len(bad))
	bound := float64(n/batch) + 2*k*math.Log2(batch)
	assert.LessOrEqual(t, float64(sum.Requests), bound)
	assert.Equal(t, sum.Requests, int(fake.RequestCount()))
	t.Logf("requests=%d for %d records with %d refused (no bisection would be %d; bound ceil(n/batch)+2k*log2(batch)=%.0f)",
		sum.Requests, n, len(bad), n/batch+len(bad)/1*batch, bound)
}

// TestBulkSyncKillAndResume cancels a run at a random point and resumes it
// with the checkpoint: every record is synced, and only records of the
// batches in flight at the kill are synced twice.
func TestBulkSyncKillAndResume(t *testing.T) {
	const n, batch, conc = 10_000, 100, 4
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			killAt := 1000 + rng.IntN(n-2000)
			_, ups, fake, sm, c := newSim(t, n)
			cp := &siro.MemoryCheckpoint{}
			stop := sm.Run()
			defer stop()

			ctx, cancel := context.WithCancel(context.Background())
			reported := make([]int, n)
			o := siro.BulkOptions{BatchSize: batch, Concurrency: conc, Checkpoint: cp, OnProgress: func(p siro.BulkProgress) {
				if p.Done >= killAt {
					cancel()
				}
			}}
			each := func(it siro.BulkItem[siro.Engagement]) {
				require.NoError(t, it.Err)
				reported[it.Index]++
			}
			sum1, err := c.StreamSyncEngagements(ctx, engagementSeq(n), o, each)
			require.ErrorIs(t, err, context.Canceled)
			saved, _ := cp.Load(context.Background())
			assert.Equal(t, int64(sum1.Settled), saved)
			assert.Less(t, sum1.Settled, n)

			o.OnProgress = nil
			sm.Resync()
			sum2, err := c.StreamSyncEngagements(context.Background(), engagementSeq(n), o, each)
			require.NoError(t, err)
			assert.Equal(t, sum1.Settled, sum2.Skipped)
			assert.Equal(t, n, sum2.Settled)
			lost, twice := ups.tally()
			assert.Equal(t, 0, lost)
			// Replayed: what finished out of order past the checkpoint's gap
			// before the kill, plus the batches in flight; never more.
			assert.LessOrEqual(t, twice, sum1.Synced+sum1.Failed-int(saved)+conc*batch,
				"at most the records past the checkpoint are replayed")
			for i, k := range reported {
				if k == 0 {
					t.Fatalf("record %d never reported", i)
				}
			}
			assert.Equal(t, 0, fake.RateLimited())
			t.Logf("killed after %d settled (checkpoint %d); resumed: %d skipped, %d synced; upserted twice: %d (in-flight window %d)",
				killAt, saved, sum2.Skipped, sum2.Synced, twice, conc*batch)
		})
	}
}

func TestBulkSyncInputErrorsAndOptions(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	c, err := fake.Client()
	require.NoError(t, err)
	boom := errors.New("row 2: bad quote")
	in := func(yield func(siro.SyncOpportunity, error) bool) {
		_ = yield(siro.SyncOpportunity{ExternalID: "o1"}, nil) &&
			yield(siro.SyncOpportunity{}, boom) &&
			yield(siro.SyncOpportunity{ExternalID: "o3", Disposition: "MAYBE"}, nil) &&
			yield(siro.SyncOpportunity{ExternalID: "o4"}, nil)
	}
	got := map[int]error{}
	sum, err := c.StreamSyncOpportunities(context.Background(), in, siro.BulkOptions{}, func(it siro.BulkItem[siro.Opportunity]) { got[it.Index] = it.Err })
	require.NoError(t, err)
	assert.Equal(t, siro.BulkSummary{Read: 4, Synced: 2, Failed: 2, Requests: 1, Settled: 4}, sum)
	assert.NoError(t, got[0])
	assert.ErrorIs(t, got[1], boom)
	assert.ErrorIs(t, got[2], siro.ErrInvalidRequest)
	assert.NoError(t, got[3])
	// A last batch of only invalid records costs no request.
	in2 := func(yield func(siro.SyncOpportunity, error) bool) {
		_ = yield(siro.SyncOpportunity{ExternalID: "p1"}, nil) && yield(siro.SyncOpportunity{}, nil)
	}
	before := fake.RequestCount()
	sum, err = c.StreamSyncOpportunities(context.Background(), in2, siro.BulkOptions{BatchSize: 1}, nil)
	require.NoError(t, err)
	assert.Equal(t, siro.BulkSummary{Read: 2, Synced: 1, Failed: 1, Requests: 1, Settled: 2}, sum)
	assert.Equal(t, before+1, fake.RequestCount())
	_, err = c.StreamSyncEngagements(context.Background(), nil, siro.BulkOptions{}, nil)
	assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	_, err = siro.NewLimiter(siro.LimiterConfig{PerMinute: 10, Burst: 11})
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = siro.NewLimiter(siro.LimiterConfig{})
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
	_, err = fake.Client(siro.WithLimiter(nil))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
}

// TestLimiterWindow: whatever the burst, no 60-second window sees more
// than PerMinute grants.
func TestLimiterWindow(t *testing.T) {
	for _, burst := range []int{0, 1, 10, 100} {
		clk := clock.NewFake(simStart)
		l, err := siro.NewLimiter(siro.LimiterConfig{PerMinute: 120, Burst: burst, Clock: clk})
		require.NoError(t, err)
		var grants []time.Time
		for range 500 {
			at := l.Reserve()
			if d := at.Sub(clk.Now()); d > 0 {
				clk.Advance(d)
			}
			grants = append(grants, clk.Now())
		}
		most := 0
		for i := range grants {
			j := i
			for j < len(grants) && grants[j].Sub(grants[i]) < time.Minute {
				j++
			}
			most = max(most, j-i)
		}
		assert.Equal(t, 120, most, "burst %d", burst)
		assert.Equal(t, simStart, grants[max(burst, 1)-1], "burst %d goes at once", burst)
	}
}
