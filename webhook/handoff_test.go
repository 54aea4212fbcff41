package webhook

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallbackReturningAtItsDeadline: a callback returning nil at the very
// instant of its deadline races the 504. Whichever side holds the result
// (the request, or the callback's goroutine after a 504), the delivery is
// committed exactly once: the retry is a duplicate and the callback ran
// once, for every one of many deliveries reusing the pooled hand-offs.
func TestCallbackReturningAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error {
			calls.Add(1)
			time.Sleep(time.Second)
			return nil
		}), WithTimeout(time.Second))
		require.NoError(t, err)
		const n = 20
		for i := range n {
			id := "edge-" + string(rune('a'+i))
			code := serve(r, signed(t, "/", "", id, []byte(`{}`)))
			assert.Contains(t, []int{http.StatusOK, http.StatusGatewayTimeout}, code)
			synctest.Wait()
			assert.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", id, []byte(`{}`))), "the retry of %s is a duplicate", id)
		}
		assert.EqualValues(t, n, calls.Load())
		st := r.Stats()
		assert.EqualValues(t, n, st.Duplicates)
		assert.EqualValues(t, n, st.Processed+st.TimedOut)
		require.NoError(t, r.Shutdown(context.Background()))
	})
}
