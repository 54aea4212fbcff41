package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends req's method, headers and body to srv over loopback and
// returns the status (0 when the connection was dropped).
func post(t *testing.T, srv *httptest.Server, req *http.Request) int {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	out, err := http.NewRequest(req.Method, srv.URL+req.URL.Path, bytes.NewReader(body))
	require.NoError(t, err)
	out.Header = req.Header.Clone()
	resp, err := srv.Client().Do(out)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sumOutcomes adds every per-outcome counter of st.
func sumOutcomes(st Stats) int64 {
	return st.Processed + st.Duplicates + st.InProgress + st.Refused + st.Failed + st.TimedOut + st.Unavailable
}

// TestAttackEnqueuedDeliveryCountedOnce: Stats says each request is
// counted once by its outcome, and Processed counts "deliveries that an
// inbox took (enqueue mode)". An enqueued delivery is counted when the
// inbox takes it (settle) and again when the job's Process returns nil,
// so one request shows Processed == 2.
func TestAttackEnqueuedDeliveryCountedOnce(t *testing.T) {
	in, err := NewMemoryInbox(10, 1)
	require.NoError(t, err)
	ran := make(chan struct{}, 1)
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { ran <- struct{}{}; return nil }), WithInbox(in))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	require.Equal(t, http.StatusOK, post(t, srv, signed(t, "/", "", "enq-1", []byte(`{}`))))
	<-ran
	require.NoError(t, in.Shutdown(context.Background()))
	st := r.Stats()
	assert.EqualValues(t, 1, st.Received)
	assert.EqualValues(t, 1, st.Processed, "one enqueued delivery, processed once")
	assert.Equal(t, st.Received, sumOutcomes(st), "each request counted once by its outcome")
}

// TestAttackGoexitInCallbackIsNotReportedProcessed: a callback ending its
// goroutine with runtime.Goexit is answered 500, but the Observer's
// callback stage ends with OutcomeProcessed (the deferred end sees the
// zero result), so traces and metrics count a failed callback as a
// success.
func TestAttackGoexitInCallbackIsNotReportedProcessed(t *testing.T) {
	o := &recorder{}
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error {
		runtime.Goexit()
		return nil
	}), WithObserver(o))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()
	assert.Equal(t, http.StatusInternalServerError, post(t, srv, signed(t, "/", "", "gx-1", []byte(`{}`))))
	ev := o.take()
	assert.Contains(t, ev, "delivery<failed/error/500")
	assert.NotContains(t, ev, "callback<processed", "a Goexit callback reported as processed: %v", ev)
}

// TestAttackGoexitInWrappedHandlerIsCounted: a wrapped handler that calls
// runtime.Goexit skips settle, so the request is in Received but in no
// outcome counter, and the Observer's delivery stage (a span) is never
// ended.
func TestAttackGoexitInWrappedHandlerIsCounted(t *testing.T) {
	o := &recorder{}
	v, err := NewHMAC("X-Sig", "", engineSecret)
	require.NoError(t, err)
	r, err := NewReceiver(Spec[any]{Provider: "webhook", Verifier: v,
		Parse:  func(ev *Event) (any, error) { ev.ID = ev.Header.Get("X-Id"); return nil, nil },
		Handle: func(context.Context, *Event, any, Once) error { return nil }}, WithObserver(o))
	require.NoError(t, err)
	srv := httptest.NewServer(r.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { runtime.Goexit() })))
	defer srv.Close()
	post(t, srv, signed(t, "/", "", "gw-1", []byte(`{}`)))
	srv.Close() // waits for the handler goroutine
	st := r.Stats()
	assert.EqualValues(t, 1, st.Received)
	assert.Equal(t, st.Received, sumOutcomes(st), "a Goexit delivery is counted by no outcome: %+v", st)
	ev := o.take()
	assert.True(t, slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "delivery<") }),
		"the delivery stage was never ended: %v", ev)
}

// TestAttackCallbackErrorWrappingASentinelIs500: a callback error is
// wrapped in a CallbackError (which unwraps to it), and StatusCode checks
// the receive sentinels first, so a callback failing with an error that
// happens to wrap one (a nested dedupe store's ErrDuplicate, a forwarded
// verification's ErrNoMatchingSignature, a lookup's ErrUnknownTenant) is
// answered 200/401/404 instead of 500: the sender does not retry (or dead
// letters) a delivery whose callback failed and was released.
func TestAttackCallbackErrorWrappingASentinelIs500(t *testing.T) {
	for _, sentinel := range []error{ErrDuplicate, ErrNoMatchingSignature, ErrUnknownTenant, ErrMalformed} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			var calls int
			r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error {
				calls++
				return fmt.Errorf("crm: nested step: %w", sentinel)
			}))
			require.NoError(t, err)
			srv := httptest.NewServer(r)
			defer srv.Close()
			assert.Equal(t, http.StatusInternalServerError, post(t, srv, signed(t, "/", "", "cb-1", []byte(`{}`))),
				"a failed callback must answer 5xx")
			assert.EqualValues(t, 1, r.Stats().Failed)
		})
	}
}
