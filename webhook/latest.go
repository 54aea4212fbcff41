package webhook

import (
	"sync"
	"time"
)

// Latest keeps the newest state per resource (a call, an agent) when
// events arrive out of order, as retries make them do. It is safe for
// concurrent use.
type Latest[V any] struct {
	mu    sync.Mutex
	items map[string]latestItem[V]
}

type latestItem[V any] struct {
	at time.Time
	v  V
}

// NewLatest returns an empty Latest.
func NewLatest[V any]() *Latest[V] {
	return &Latest[V]{items: map[string]latestItem[V]{}}
}

// Update records v for key if at is newer than what is held, and reports
// whether it did; a stale (older or equal) event is dropped.
func (l *Latest[V]) Update(key string, at time.Time, v V) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.items[key]; ok && !at.After(cur.at) {
		return false
	}
	l.items[key] = latestItem[V]{at: at, v: v}
	return true
}

// Get returns the newest state for key and its time.
func (l *Latest[V]) Get(key string) (V, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.items[key]
	return it.v, it.at, ok
}

// Delete forgets key.
func (l *Latest[V]) Delete(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.items, key)
}

// Len returns the number of resources held.
func (l *Latest[V]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}
