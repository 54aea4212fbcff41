package riverinbox

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pending is one Enqueue waiting for its batch to commit.
type pending struct {
	args DeliveryArgs
	key  string
	err  error
	done chan struct{}
}

// batcher is group commit: Enqueue calls queue up; one goroutine stores
// what is queued in one transaction, and while it commits, the calls that
// arrive form the next batch. No timer: a lone delivery is stored at once,
// and under load the batch grows with the commit time.
type batcher struct {
	max   int
	flush func([]*pending)

	mu     sync.Mutex
	queue  []*pending
	active bool

	// commits, rows and flushNanos count the transactions, the
	// deliveries they carried and the time spent in flush (the
	// benchmark's rows/commit and commit-ms).
	commits, rows, flushNanos atomic.Int64
}

func (b *batcher) submit(ctx context.Context, p *pending) error {
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if !b.active {
		b.active = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		// The batch may still commit it: the vendor's retry then finds
		// it stored (a duplicate, answered 2xx). Nothing is acknowledged
		// that is not stored.
		return fmt.Errorf("riverinbox: storing %s delivery %s: %w", p.args.Provider, p.args.ID, ctx.Err())
	}
}

func (b *batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.max)
		if n == 0 {
			b.active = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = append([]*pending(nil), b.queue[n:]...)
		b.mu.Unlock()
		t0 := time.Now()
		b.flush(batch)
		b.flushNanos.Add(int64(time.Since(t0)))
		b.commits.Add(1)
		b.rows.Add(int64(n))
	}
}
