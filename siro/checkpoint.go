package siro

import (
	"context"
	"sync"
)

// Checkpoint remembers how far a bulk sync got: the input index below
// which every record is settled (synced, or failed with its reason
// reported). The bulk syncs Load it once and skip the records below it,
// and Save it each time the settled prefix grows (after each contiguous
// batch). Replaying a record after a crash is harmless: a sync is an upsert
// by externalId. Use one checkpoint per input (job), and have the input
// yield the same records in the same order on every run: the checkpoint is
// an index, so a record inserted before it on a resume (a database query
// without a stable ORDER BY, a file edited in between) shifts the input
// and the record the index now lands past is skipped, never sent. See the
// sirosql package for one on your database.
type Checkpoint interface {
	// Load returns the saved index (0 when nothing was saved).
	Load(ctx context.Context) (int64, error)
	// Save records that every record below next is settled.
	Save(ctx context.Context, next int64) error
}

// MemoryCheckpoint is an in-process Checkpoint (resume after a cancelled
// run in the same process). The zero value is ready. Safe for concurrent
// use.
type MemoryCheckpoint struct {
	mu   sync.Mutex
	next int64
}

// Load implements Checkpoint.
func (m *MemoryCheckpoint) Load(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next, nil
}

// Save implements Checkpoint.
func (m *MemoryCheckpoint) Save(_ context.Context, next int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next = next
	return nil
}
