package siro

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bulk defaults.
const (
	DefaultBulkBatchSize   = 100
	DefaultBulkConcurrency = 4
	// DefaultBulkRequestsPerMinute is kept for compatibility: the client's
	// Limiter now paces every request (see WithLimiter), and
	// BulkOptions.RequestsPerMinute is only an extra cap.
	DefaultBulkRequestsPerMinute = DefaultRequestsPerMinute
	// MaxBulkBatchSize and MaxBulkConcurrency bound BulkOptions: a larger
	// value is refused with ErrInvalidOption (the engine holds BatchSize x
	// (Concurrency + 1) records and runs Concurrency goroutines).
	MaxBulkBatchSize   = 10_000
	MaxBulkConcurrency = 1_000
)

// BulkOptions tune the bulk syncs. Zero values take the defaults.
type BulkOptions struct {
	// BatchSize is how many records go in one batch call (at most
	// MaxBulkBatchSize).
	BatchSize int
	// Concurrency is how many batch calls run at once (at most
	// MaxBulkConcurrency). Memory is bounded by about BatchSize x
	// (Concurrency + 1) records, whatever the input size.
	Concurrency int
	// RequestsPerMinute, if positive, caps this bulk sync's calls below the
	// client's own Limiter (which every request waits on anyway), leaving
	// part of the token's budget to other traffic.
	RequestsPerMinute int
	// Checkpoint, if set, is loaded first (records below it are skipped)
	// and saved each time the settled prefix of the input grows.
	Checkpoint Checkpoint
	// OnProgress is called (serially) after each batch settles.
	OnProgress func(BulkProgress)
}

// BulkProgress reports how far a bulk sync is.
type BulkProgress struct {
	// Total is the input size when known (the slice calls), else 0.
	Total int
	// Done counts settled records of this run (Synced + Failed); Skipped
	// counts those an earlier run settled (below the checkpoint).
	Done, Synced, Failed, Skipped int
	// Requests is how many batch calls were made so far.
	Requests int
}

// BulkItem is the outcome of one input record of a streaming bulk sync.
type BulkItem[R any] struct {
	// Index is the record's position in the input (counting skipped ones).
	Index int
	// ExternalID is the record's CRM id.
	ExternalID string
	// Record is Siro's record when the sync succeeded.
	Record *R
	// Err says why the record failed: the input's own error, validation,
	// Siro's rejection (an *Error whose Issues name the fields) or
	// ErrNotInResponse; nil on success.
	Err error
}

// BulkSummary totals a streaming bulk sync.
type BulkSummary struct {
	// Read counts input records seen, including the skipped ones.
	Read int
	// Skipped counts records below the loaded checkpoint.
	Skipped int
	// Synced and Failed count the records this run settled.
	Synced, Failed int
	// Requests is how many batch calls were made (core retries of one call
	// are not counted).
	Requests int
	// Settled is the index below which every record is settled (what the
	// checkpoint holds at the end).
	Settled int
}

// BulkRecordResult is the outcome of one input record (BulkSyncEngagements).
type BulkRecordResult struct {
	// Index is the record's position in the input.
	Index      int
	ExternalID string
	// Engagement is Siro's record when the sync succeeded.
	Engagement *Engagement
	// Err says why the record failed (validation, API error, missing from
	// the answer, or the context's error if it never settled); nil on
	// success. A record below the loaded checkpoint (settled by an earlier
	// run) has neither Engagement nor Err, and is counted in neither
	// Synced nor Failed.
	Err error
}

// BulkResult lists every record's outcome, in input order.
type BulkResult struct {
	Records        []BulkRecordResult
	Synced, Failed int
	// Requests is how many API calls were made.
	Requests int
}

// Failures returns the failed records.
func (r *BulkResult) Failures() []BulkRecordResult {
	var out []BulkRecordResult
	for _, rec := range r.Records {
		if rec.Err != nil {
			out = append(out, rec)
		}
	}
	return out
}

// checkpointTimeout bounds one Checkpoint.Save.
const checkpointTimeout = 30 * time.Second

// ErrNotInResponse marks a record Siro's batch answer did not mention.
var ErrNotInResponse = errors.New("siro: record missing from the batch response")

// StreamSyncEngagements syncs an engagement export of any size through
// PUT /v1/integrations/sync/batch/engagements: records are read from in
// (an error the input yields fails that record), validated (invalid ones
// fail without a request), batched and sent with bounded concurrency, every
// request waiting on the client's Limiter. A batch Siro rejects with a 4xx
// is split in halves until the bad records are alone, so each keeps Siro's
// own reason (the *Error's Issues) and the rest are synced; k bad records
// in a batch of n cost about 2k*log2(n) extra calls.
//
// each receives every settled record (serially, in completion order,
// tagged with its input index); it may be nil. A panic in each, in
// OnProgress or in the Checkpoint stops the run and is raised again on the
// caller's goroutine once the workers are done. With o.Checkpoint, records
// below the loaded index are skipped and the index is saved as the settled
// prefix grows. A crash or cancellation can leave the records of the
// batches in flight synced but not checkpointed; the next run sends them
// again, which is harmless: a sync is an upsert by externalId.
//
// Each externalId should appear once in the input: a record repeating the
// externalId of an earlier one of the same batch fails with
// ErrInvalidRequest naming that record (Siro would upsert both in no
// promised order); repeats in different batches are both sent, and with
// Concurrency above 1 either may be the last.
//
// The error is the context's (the summary then holds what finished), the
// checkpoint's, or nil: record failures are reported through each.
func (c *Client) StreamSyncEngagements(ctx context.Context, in iter.Seq2[SyncEngagement, error], o BulkOptions, each func(BulkItem[Engagement])) (BulkSummary, error) {
	return runBulk(ctx, c, engagementSpec, in, o, each, 0)
}

// StreamSyncOpportunities is StreamSyncEngagements for opportunities
// (PUT /v1/integrations/sync/batch/opportunities).
func (c *Client) StreamSyncOpportunities(ctx context.Context, in iter.Seq2[SyncOpportunity, error], o BulkOptions, each func(BulkItem[Opportunity])) (BulkSummary, error) {
	return runBulk(ctx, c, opportunitySpec, in, o, each, 0)
}

// BulkSyncEngagements syncs a slice of engagements with
// StreamSyncEngagements and keeps every record's outcome, in input order.
// Prefer the streaming call for exports that do not fit in memory twice.
// The error is only the context's or the checkpoint's (the result then
// holds what finished; unsettled records carry the error).
func (c *Client) BulkSyncEngagements(ctx context.Context, records []SyncEngagement, o BulkOptions) (*BulkResult, error) {
	res := &BulkResult{Records: make([]BulkRecordResult, len(records))}
	seen := make([]bool, len(records))
	in := func(yield func(SyncEngagement, error) bool) {
		for i := range records {
			if !yield(records[i], nil) {
				return
			}
		}
	}
	sum, err := runBulk(ctx, c, engagementSpec, in, o, func(it BulkItem[Engagement]) {
		res.Records[it.Index] = BulkRecordResult{Index: it.Index, ExternalID: it.ExternalID, Engagement: it.Record, Err: it.Err}
		seen[it.Index] = true
	}, len(records))
	res.Requests = sum.Requests
	for i := range res.Records {
		if !seen[i] {
			if i < sum.Settled {
				// Below the loaded checkpoint: settled by an earlier run,
				// whatever ended this one.
				res.Records[i] = BulkRecordResult{Index: i, ExternalID: records[i].ExternalID}
				continue
			}
			res.Records[i] = BulkRecordResult{Index: i, ExternalID: records[i].ExternalID, Err: err}
		}
		if res.Records[i].Err != nil {
			res.Failed++
		} else if seen[i] {
			res.Synced++
		}
	}
	return res, err
}

// bulkSpec is what the generic engine needs to know about one record kind.
type bulkSpec[T, R any] struct {
	op       string
	validate func(*T) error
	extID    func(*T) string
	outID    func(*R) string
	route    string // the batch route, PUT with the records
}

var engagementSpec = bulkSpec[SyncEngagement, Engagement]{
	op:       "Sync.Engagements",
	validate: (*SyncEngagement).Validate,
	extID:    func(e *SyncEngagement) string { return e.ExternalID },
	outID:    func(e *Engagement) string { return e.ExternalID },
	route:    "/v1/integrations/sync/batch/engagements",
}

var opportunitySpec = bulkSpec[SyncOpportunity, Opportunity]{
	op:       "Sync.Opportunities",
	validate: (*SyncOpportunity).Validate,
	extID:    func(o *SyncOpportunity) string { return o.ExternalID },
	outID:    func(o *Opportunity) string { return o.ExternalID },
	route:    "/v1/integrations/sync/batch/opportunities",
}

// chunk is a contiguous input range [start, end): the valid records to
// send and the ones already failed (invalid, or the input's own error).
type chunk[T, R any] struct {
	start, end int
	recs       []T
	idx        []int          // input index of each rec
	ids        map[string]int // externalId -> input index, of recs
	failed     []BulkItem[R]
}

// bulkRun is the state of one run shared by the workers.
type bulkRun[T, R any] struct {
	c        *Client
	spec     bulkSpec[T, R]
	o        BulkOptions
	each     func(BulkItem[R])
	extra    Limiter
	start    int // the loaded checkpoint: records below it are skipped
	requests atomic.Int64

	mu       sync.Mutex // serialises each, progress and checkpoint saves
	prog     BulkProgress
	frontier int
	pending  map[int]int // settled chunks beyond the frontier: start -> end
	err      error       // first checkpoint error
	cancel   context.CancelFunc

	panicked atomic.Pointer[bulkPanic] // the first panic of a worker (each, OnProgress, a Checkpoint)
}

// bulkPanic carries a worker's panic to the caller's goroutine.
type bulkPanic struct{ v any }

func runBulk[T, R any](ctx context.Context, c *Client, spec bulkSpec[T, R], in iter.Seq2[T, error], o BulkOptions, each func(BulkItem[R]), total int) (BulkSummary, error) {
	if in == nil {
		return BulkSummary{}, invalid(spec.op, "the input sequence is nil")
	}
	switch {
	case o.BatchSize > MaxBulkBatchSize:
		return BulkSummary{}, optErr(spec.op, "BulkOptions.BatchSize %d exceeds MaxBulkBatchSize (%d)", o.BatchSize, MaxBulkBatchSize)
	case o.Concurrency > MaxBulkConcurrency:
		return BulkSummary{}, optErr(spec.op, "BulkOptions.Concurrency %d exceeds MaxBulkConcurrency (%d)", o.Concurrency, MaxBulkConcurrency)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBulkBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultBulkConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := newBulkRun(ctx, c, spec, o, each, total, cancel)
	if err != nil {
		return BulkSummary{}, err
	}
	jobs := make(chan *chunk[T, R])
	var wg sync.WaitGroup
	r.startWorkers(ctx, jobs, &wg)
	read, complete := r.feed(ctx, in, jobs)
	close(jobs)
	wg.Wait()
	if p := r.panicked.Load(); p != nil {
		panic(p.v) // the caller's callback's panic, on the caller's goroutine
	}
	return r.summary(ctx, read, complete)
}

// newBulkRun sets up a run with o (defaults applied): its extra Limiter
// and its starting point, the loaded checkpoint.
func newBulkRun[T, R any](ctx context.Context, c *Client, spec bulkSpec[T, R], o BulkOptions, each func(BulkItem[R]), total int, cancel context.CancelFunc) (*bulkRun[T, R], error) {
	r := &bulkRun[T, R]{c: c, spec: spec, o: o, each: each, pending: map[int]int{}, cancel: cancel}
	r.prog.Total = total
	if o.RequestsPerMinute > 0 {
		l, err := NewLimiter(LimiterConfig{PerMinute: o.RequestsPerMinute, Clock: c.clock})
		if err != nil {
			return nil, err
		}
		r.extra = l
	}
	if o.Checkpoint != nil {
		n, err := o.Checkpoint.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("siro: %s: loading checkpoint: %w", spec.op, err)
		}
		r.start = int(max(n, 0))
	}
	r.frontier = r.start
	return r, nil
}

// startWorkers starts o.Concurrency workers that sync and settle the
// chunks received on jobs until it is closed; wg waits for them. A panic
// (in each, OnProgress or the Checkpoint) stops the run and is kept for
// runBulk to raise again on the caller's goroutine.
func (r *bulkRun[T, R]) startWorkers(ctx context.Context, jobs <-chan *chunk[T, R], wg *sync.WaitGroup) {
	for range r.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					r.panicked.CompareAndSwap(nil, &bulkPanic{v})
					r.cancel()
				}
			}()
			for ch := range jobs {
				if ok := r.process(ctx, ch); ok {
					r.settle(ctx, ch)
				}
			}
		}()
	}
}

// feed reads in, skipping the records below r.start, groups the rest in
// chunks of BatchSize valid records and hands each to a worker, until in
// ends or ctx does (also while skipping). It returns how many records it
// read and whether it read in to its end.
func (r *bulkRun[T, R]) feed(ctx context.Context, in iter.Seq2[T, error], jobs chan<- *chunk[T, R]) (read int, complete bool) {
	var cur *chunk[T, R]
	for rec, err := range in {
		i := read
		read++
		if ctx.Err() != nil {
			return read, false
		}
		if i < r.start {
			continue
		}
		if cur == nil {
			cur = &chunk[T, R]{start: i, recs: make([]T, 0, r.o.BatchSize), idx: make([]int, 0, r.o.BatchSize)}
		}
		r.add(cur, i, rec, err)
		if len(cur.recs) == r.o.BatchSize {
			cur.end = read
			if !dispatch(ctx, jobs, cur) {
				return read, false
			}
			cur = nil
		}
	}
	if cur != nil {
		cur.end = read
		if ctx.Err() != nil || !dispatch(ctx, jobs, cur) {
			return read, false
		}
	}
	return read, true
}

// add puts input record i into ch: to send when valid, else as failed
// with the input's own error (err) or the validation error.
func (r *bulkRun[T, R]) add(ch *chunk[T, R], i int, rec T, err error) {
	ext := r.spec.extID(&rec)
	if err == nil {
		if verr := r.spec.validate(&rec); verr != nil {
			err = invalid(r.spec.op, verr.Error())
		}
	}
	if err == nil {
		// Siro would upsert both, in an order it does not promise, and
		// answer one record for the two.
		if prev, dup := ch.ids[ext]; dup {
			err = invalid(r.spec.op, fmt.Sprintf("externalId %q repeats record %d of the same batch: send each externalId once", ext, prev))
		}
	}
	if err != nil {
		ch.failed = append(ch.failed, BulkItem[R]{Index: i, ExternalID: ext, Err: err})
		return
	}
	if ch.ids == nil {
		ch.ids = make(map[string]int, r.o.BatchSize)
	}
	ch.ids[ext] = i
	ch.recs = append(ch.recs, rec)
	ch.idx = append(ch.idx, i)
}

// dispatch hands ch to a worker; it reports false when ctx ended first.
func dispatch[T, R any](ctx context.Context, jobs chan<- *chunk[T, R], ch *chunk[T, R]) bool {
	select {
	case jobs <- ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// summary totals the run once the workers are done. The error is the
// first checkpoint error, else the context's when it left records of the
// read ones unsettled or stopped the reading of in (complete false).
func (r *bulkRun[T, R]) summary(ctx context.Context, read int, complete bool) (BulkSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := BulkSummary{Read: read, Skipped: min(r.start, read), Synced: r.prog.Synced, Failed: r.prog.Failed,
		Requests: int(r.requests.Load()), Settled: r.frontier}
	if r.err != nil {
		return sum, r.err
	}
	if ctx.Err() != nil && (sum.Settled < read || !complete) {
		return sum, ctx.Err() // the caller's cancellation or deadline
	}
	return sum, nil
}

// process syncs a chunk's records, bisecting rejected batches. It reports
// false when the context ended first (the chunk stays unsettled).
func (r *bulkRun[T, R]) process(ctx context.Context, ch *chunk[T, R]) bool {
	if len(ch.recs) == 0 {
		return true // only failed records (a trailing invalid one): no request
	}
	out := make([]BulkItem[R], len(ch.recs))
	for k, i := range ch.idx {
		out[k] = BulkItem[R]{Index: i, ExternalID: r.spec.extID(&ch.recs[k])}
	}
	if !r.send(ctx, ch.recs, out) {
		return false
	}
	ch.failed = append(ch.failed, out...)
	ch.recs = nil
	return true
}

// send syncs recs (filling out, aligned with recs); a batch rejected with
// a 4xx that a record can cause is halved until each bad record is alone.
func (r *bulkRun[T, R]) send(ctx context.Context, recs []T, out []BulkItem[R]) bool {
	if r.extra != nil {
		if err := r.extra.Wait(ctx); err != nil {
			return false
		}
	}
	r.requests.Add(1)
	got, err := getData[[]R](ctx, r.c.org, r.spec.op, http.MethodPut, r.spec.route, nil, nil, recs)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		if len(recs) > 1 && recordCaused(err) {
			h := len(recs) / 2
			return r.send(ctx, recs[:h], out[:h]) && r.send(ctx, recs[h:], out[h:])
		}
		for k := range out {
			out[k].Err = err
		}
		return true
	}
	byExt := make(map[string]*R, len(got))
	for k := range got {
		byExt[r.spec.outID(&got[k])] = &got[k]
	}
	for k := range out {
		if rec, ok := byExt[out[k].ExternalID]; ok {
			out[k].Record = rec
		} else {
			out[k].Err = fmt.Errorf("%w: %s", ErrNotInResponse, out[k].ExternalID)
		}
	}
	return true
}

// recordCaused reports whether a batch's rejection may come from some of
// its records (400, 413, 422 and other 4xx), not from the credential, the
// route or the rate limit.
func recordCaused(err error) bool {
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.StatusCode > 499 {
		return false
	}
	switch apiErr.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return true
}

// settle reports a chunk's records, advances the settled prefix and saves
// the checkpoint when it grew.
func (r *bulkRun[T, R]) settle(ctx context.Context, ch *chunk[T, R]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, it := range ch.failed {
		if it.Err != nil {
			r.prog.Failed++
		} else {
			r.prog.Synced++
		}
		r.prog.Done++
		if r.each != nil {
			r.each(it)
		}
	}
	ch.failed = nil
	r.prog.Requests = int(r.requests.Load())
	r.pending[ch.start] = ch.end
	old := r.frontier
	for {
		end, ok := r.pending[r.frontier]
		if !ok {
			break
		}
		delete(r.pending, r.frontier)
		r.frontier = end
	}
	if r.frontier != old && r.o.Checkpoint != nil && r.err == nil {
		// These records are synced: record it even if the run is being
		// cancelled.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
		err := r.o.Checkpoint.Save(sctx, int64(r.frontier))
		cancel()
		if err != nil {
			r.err = fmt.Errorf("siro: %s: saving checkpoint: %w", r.spec.op, err)
			r.cancel()
		}
	}
	if r.o.OnProgress != nil {
		r.o.OnProgress(r.prog)
	}
}
