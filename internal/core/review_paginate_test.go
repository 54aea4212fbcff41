package core

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewPaginateCycleBackToStart: a list resumed from a cursor (start
// "S") whose cursors lead back to it (S, A, S) is a cycle like any other:
// the iterator must not fetch and yield S's page a second time before
// reporting ErrCursorLoop.
func TestReviewPaginateCycleBackToStart(t *testing.T) {
	next := map[string]string{"S": "A", "A": "S"}
	var calls []string
	var items []string
	var errs []error
	for v, err := range Paginate(context.Background(), "S", func(_ context.Context, cursor string) (Page[string], error) {
		calls = append(calls, cursor)
		if len(calls) > 10 {
			t.Fatal("pagination loops")
		}
		return Page[string]{Items: []string{"item-" + cursor}, Next: next[cursor]}, nil
	}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, v)
	}
	assert.Equal(t, []string{"S", "A"}, calls, "no page fetched twice")
	assert.Equal(t, []string{"item-S", "item-A"}, items, "no item yielded twice")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrCursorLoop)
}
