package siro

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Siro's documented limit is 1,000 requests per token per minute.
const (
	DefaultBulkBatchSize         = 100
	DefaultBulkConcurrency       = 4
	DefaultBulkRequestsPerMinute = 900 // headroom under Siro's 1,000
)

// BulkOptions tune BulkSyncEngagements. Zero values take the defaults.
type BulkOptions struct {
	// BatchSize is how many engagements go in one batch call.
	BatchSize int
	// Concurrency is how many batch calls run at once.
	Concurrency int
	// RequestsPerMinute caps the calls this bulk sync makes (it shares the
	// token's limit with everything else you run; leave headroom).
	RequestsPerMinute int
	// OnProgress is called (serially) after each batch.
	OnProgress func(BulkProgress)
}

// BulkProgress reports how far a bulk sync is.
type BulkProgress struct {
	Total, Done, Synced, Failed int
}

// BulkRecordResult is the outcome of one input record.
type BulkRecordResult struct {
	// Index is the record's position in the input.
	Index      int
	ExternalID string
	// Engagement is Siro's record when the sync succeeded.
	Engagement *Engagement
	// Err says why the record failed (validation, API error, missing from
	// the answer); nil on success.
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

// ErrNotInResponse marks a record Siro's batch answer did not mention.
var ErrNotInResponse = errors.New("siro: record missing from the batch response")

// BulkSyncEngagements syncs a whole CRM export: records are validated
// (invalid ones fail without a request), chunked into batch calls that run
// with bounded concurrency under a client-side rate limit, and retried as
// the client's retry policy allows. A batch Siro rejects as a whole (4xx)
// is retried record by record so each failure carries its own reason.
// Every record is accounted for in the result; the error is only for a
// cancelled context (the result then holds what finished).
func (c *Client) BulkSyncEngagements(ctx context.Context, records []SyncEngagement, o BulkOptions) (*BulkResult, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBulkBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultBulkConcurrency
	}
	if o.RequestsPerMinute <= 0 {
		o.RequestsPerMinute = DefaultBulkRequestsPerMinute
	}
	res := &BulkResult{Records: make([]BulkRecordResult, len(records))}
	var valid []int
	for i := range records {
		res.Records[i] = BulkRecordResult{Index: i, ExternalID: records[i].ExternalID}
		if err := records[i].Validate(); err != nil {
			res.Records[i].Err = invalid("Sync.Engagements", err.Error())
			continue
		}
		valid = append(valid, i)
	}
	lim := newLimiter(o.RequestsPerMinute, c.clock)
	var (
		mu   sync.Mutex
		prog = BulkProgress{Total: len(records), Done: len(records) - len(valid), Failed: len(records) - len(valid)}
	)
	report := func(idx []int) {
		mu.Lock()
		defer mu.Unlock()
		for _, i := range idx {
			prog.Done++
			if res.Records[i].Err != nil {
				prog.Failed++
			} else {
				prog.Synced++
			}
		}
		if o.OnProgress != nil {
			o.OnProgress(prog)
		}
	}
	sync1 := func(idx []int) {
		batch := make([]SyncEngagement, len(idx))
		for k, i := range idx {
			batch[k] = records[i]
		}
		if err := lim.wait(ctx); err != nil {
			for _, i := range idx {
				res.Records[i].Err = err
			}
			return
		}
		mu.Lock()
		res.Requests++
		mu.Unlock()
		got, err := c.SyncEngagements(ctx, batch)
		var apiErr *Error
		if err != nil && len(idx) > 1 && errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != 401 && apiErr.StatusCode != 403 && apiErr.StatusCode != 429 {
			// Isolate the bad records: one call each.
			for _, i := range idx {
				if err := lim.wait(ctx); err != nil {
					res.Records[i].Err = err
					continue
				}
				mu.Lock()
				res.Requests++
				mu.Unlock()
				e, err := c.SyncEngagement(ctx, &records[i])
				res.Records[i].Engagement, res.Records[i].Err = e, err
			}
			return
		}
		if err != nil {
			for _, i := range idx {
				res.Records[i].Err = err
			}
			return
		}
		byExt := make(map[string]*Engagement, len(got))
		for k := range got {
			byExt[got[k].ExternalID] = &got[k]
		}
		for _, i := range idx {
			if e, ok := byExt[records[i].ExternalID]; ok {
				res.Records[i].Engagement = e
			} else {
				res.Records[i].Err = fmt.Errorf("%w: %s", ErrNotInResponse, records[i].ExternalID)
			}
		}
	}
	batches := make(chan []int)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range batches {
				sync1(idx)
				report(idx)
			}
		}()
	}
	for start := 0; start < len(valid); start += o.BatchSize {
		end := min(start+o.BatchSize, len(valid))
		batches <- valid[start:end]
	}
	close(batches)
	wg.Wait()
	for _, r := range res.Records {
		if r.Err != nil {
			res.Failed++
		} else {
			res.Synced++
		}
	}
	return res, ctx.Err()
}

// limiter spaces calls evenly: at most n per minute, waits on the clock and
// respects the context.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	clock    clock.Clock
}

func newLimiter(perMinute int, c clock.Clock) *limiter {
	return &limiter{interval: time.Minute / time.Duration(perMinute), clock: clock.Or(c)}
}

func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clock.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.clock.After(d):
		}
	}
	return ctx.Err()
}
