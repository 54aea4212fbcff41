package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackPaginateCursorCycle: a server whose cursors cycle (A, B, A)
// has more pages it will never stop announcing; the iterator must end,
// and end with an error, not as if the list were complete (a sync would
// silently miss every record past the loop).
func TestAttackPaginateCursorCycle(t *testing.T) {
	next := map[string]string{"": "A", "A": "B", "B": "A"}
	var calls []string
	var items []int
	var errs []error
	for v, err := range Paginate(context.Background(), "", func(_ context.Context, cursor string) (Page[int], error) {
		calls = append(calls, cursor)
		if len(calls) > 10 {
			t.Fatal("pagination loops")
		}
		return Page[int]{Items: []int{len(calls)}, Next: next[cursor]}, nil
	}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, v)
	}
	assert.Equal(t, []string{"", "A", "B"}, calls, "no page fetched twice")
	assert.Equal(t, []int{1, 2, 3}, items)
	require.Len(t, errs, 1, "the loop is reported once")
	assert.ErrorIs(t, errs[0], ErrCursorLoop)
}

// TestAttackPaginateSameCursorKeepsSiroBehaviour: a server that ignores
// the cursor (answers Next equal to the cursor sent) ends the list
// quietly before yielding the repeated page (documented: Siro's
// connections list).
func TestAttackPaginateSameCursorKeepsSiroBehaviour(t *testing.T) {
	var items []int
	for v, err := range Paginate(context.Background(), "", func(_ context.Context, cursor string) (Page[int], error) {
		return Page[int]{Items: []int{1, 2}, Next: "A"}, nil
	}) {
		require.NoError(t, err)
		items = append(items, v)
	}
	assert.Equal(t, []int{1, 2}, items)
}

// TestAttackPaginateErrorOnceAndStop: the fetch error is the last value
// even when the caller keeps ranging, breaking on an error stops, and a
// break inside a page fetches nothing more.
func TestAttackPaginateErrorOnceAndStop(t *testing.T) {
	boom := errors.New("boom")
	fetches := 0
	seq := Paginate(context.Background(), "", func(_ context.Context, cursor string) (Page[int], error) {
		fetches++
		if cursor == "B" {
			return Page[int]{}, boom
		}
		return Page[int]{Items: []int{1, 2, 3}, Next: cursor + "B"}, nil
	})
	var got []error
	n := 0
	for _, err := range seq {
		n++
		if err != nil {
			got = append(got, err)
		}
	}
	assert.Equal(t, 4, n, "three items then the error")
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], boom)
	assert.Equal(t, 2, fetches)

	fetches = 0
	for _, err := range seq {
		if err != nil {
			break
		}
	}
	assert.Equal(t, 2, fetches)

	fetches = 0
	for range seq {
		break
	}
	assert.Equal(t, 1, fetches, "a break on the first item fetches no second page")

	// The context given to Paginate is the one every fetch sees.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range Paginate(ctx, "", func(ctx context.Context, _ string) (Page[int], error) {
		return Page[int]{}, ctx.Err()
	}) {
		assert.ErrorIs(t, err, context.Canceled)
	}
}

// TestAttackPathParamsEscaped: an id carrying '/', '?', '#', '%', spaces,
// dots or non-ASCII names exactly one path segment on the server, and the
// query stays the query.
func TestAttackPathParamsEscaped(t *testing.T) {
	mux := http.NewServeMux()
	got := make(chan [2]string, 1)
	mux.HandleFunc("GET /v1/things/{id}/sub/{sub}", func(w http.ResponseWriter, r *http.Request) {
		got <- [2]string{r.PathValue("id") + "|" + r.PathValue("sub"), r.URL.RawQuery}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/", nil)
	for _, id := range []string{
		"a/b", "a?b=1", "a#frag", "100%", "%2e%2e", "a b", "...", ".a", "a..", "日本語", "emoji😀", "a%2Fb",
		"{sub}", "a\x00b", "a\r\nX-Injected: 1", "../../admin", "a;b", "a+b", "~user", "..%2f",
	} {
		_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/v1/things/{id}/sub/{sub}",
			PathParams: []string{id, "s/2"}, Query: url.Values{"q": {"x&y=z"}}}, nil)
		require.NoError(t, err, "id %q", id)
		g := <-got
		assert.Equal(t, id+"|s/2", g[0], "id %q", id)
		assert.Equal(t, "q=x%26y%3Dz", g[1], "id %q", id)
	}
	for _, bad := range [][]string{{"", "s"}, {".", "s"}, {"..", "s"}, {"a"}, {"a", "b", "c"}} {
		_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/v1/things/{id}/sub/{sub}", PathParams: bad}, nil)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%q", bad)
	}
	_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "v1/no-slash"}, nil)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	_, err = c.Do(context.Background(), &Request{Method: "GET\r\nX: y", Route: "/x"}, nil)
	assert.ErrorIs(t, err, ErrInvalidRequest, "a method with a line break")
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x", Header: http.Header{"X-Evil": {"a\r\nb"}}}, nil)
	assert.Error(t, err, "a header value with a line break is refused by the transport")
	assert.False(t, strings.Contains(err.Error(), "tok"), "no credential in the error")
}

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
