package testkit

import (
	"context"
	"sync"
)

// Lines collects one line per call of the callbacks Record makes; safe
// for concurrent callbacks.
type Lines struct {
	mu    sync.Mutex
	lines []string
}

// Get returns the lines so far, in the order the callbacks ran.
func (l *Lines) Get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Record returns a vendor callback that adds line(ev) to l and succeeds.
func Record[E any](l *Lines, line func(ev E) string) func(ctx context.Context, ev E) error {
	return func(_ context.Context, ev E) error {
		s := line(ev)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, s)
		return nil
	}
}
