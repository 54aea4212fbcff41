package core

import (
	"context"
	"fmt"
	"iter"

	"github.com/callcrm/callcrm-go/internal/apierr"
)

// ErrCursorLoop is wrapped by the last value of a Paginate iterator whose
// server answered, as the next page's cursor, one it had answered before
// (other than the cursor just sent, which means the server ignores
// cursors and ends the list): the list cannot be read to its end.
var ErrCursorLoop = apierr.ErrCursorLoop

// Page is one page of a list.
type Page[T any] struct {
	// Items are the page's elements.
	Items []T
	// Next is the cursor for the following page; empty means this page is
	// the last.
	Next string
}

// Paginate turns a page fetcher into an iterator. No request is made until
// the caller ranges; fetching stops when the loop breaks or an error is
// yielded (the error is the last value; ErrCursorLoop when the server's
// cursors cycle). start is the first cursor (usually ""). fetch must not
// keep or mutate the caller's options: callers pass it a copy.
func Paginate[T any](ctx context.Context, start string, fetch func(ctx context.Context, cursor string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := start
		seen := map[string]bool{}
		if start != "" {
			seen[start] = true // a list resumed from a cursor may cycle back to it
		}
		for {
			page, err := fetch(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if cursor != "" && page.Next == cursor {
				// The server ignored the cursor and answered the page it
				// answered before: stop before yielding it twice.
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
			if page.Next == "" || len(page.Items) == 0 {
				return
			}
			if seen[page.Next] {
				// The cursors cycle: following them would loop forever, and
				// ending quietly would pass a partial list off as complete.
				var zero T
				yield(zero, fmt.Errorf("%w: cursor %q was answered before", ErrCursorLoop, page.Next))
				return
			}
			seen[page.Next] = true
			cursor = page.Next
		}
	}
}
