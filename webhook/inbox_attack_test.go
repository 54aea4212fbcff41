package webhook

import (
	"context"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackGoexitInInboxCallbackKeepsTheWorker: inline, a callback that
// calls runtime.Goexit is turned into a 500 (errGoexit), but on the inbox
// side Receiver.Process runs the callback on the worker's own goroutine:
// Goexit ends the MemoryInbox worker. The acknowledged event is neither
// processed nor handed to the error hook, and with one worker every later
// acknowledged delivery waits forever.
func TestAttackGoexitInInboxCallbackKeepsTheWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failed atomic.Int32
		in, err := NewMemoryInbox(10, 1, WithInboxErrorHook(func(*Event, error) { failed.Add(1) }))
		require.NoError(t, err)
		var processed atomic.Int32
		r, err := NewReceiver(engineSpec(t, func(_ context.Context, ev *Event, _ Once) error {
			if ev.ID == "goexit" {
				runtime.Goexit()
			}
			processed.Add(1)
			return nil
		}), WithInbox(in))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", "goexit", []byte(`{}`))))
		synctest.Wait()
		require.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", "after", []byte(`{}`))))
		synctest.Wait()
		assert.EqualValues(t, 1, failed.Load(), "the Goexit event reaches the error hook (the inbox's dead letter)")
		assert.EqualValues(t, 1, processed.Load(), "the next acknowledged delivery is processed")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = in.Shutdown(ctx)
	})
}
