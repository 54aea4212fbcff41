package core

import (
	"context"
	"iter"
)

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
// yielded (the error is the last value). start is the first cursor (usually
// ""). fetch must not keep or mutate the caller's options: callers pass it a
// copy.
func Paginate[T any](ctx context.Context, start string, fetch func(ctx context.Context, cursor string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := start
		seen := map[string]bool{}
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
			if page.Next == "" || len(page.Items) == 0 || seen[page.Next] {
				// A repeated cursor would loop forever: treat it as the end.
				return
			}
			seen[page.Next] = true
			cursor = page.Next
		}
	}
}
