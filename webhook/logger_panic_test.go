package webhook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panickyHandler is a careless user's slog.Handler: it panics on every
// record at error level.
type panickyHandler struct{ slog.Handler }

func (p panickyHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		panic("log handler bug")
	}
	return p.Handler.Handle(ctx, r)
}

func panickyLogger() *slog.Logger {
	return slog.New(panickyHandler{slog.NewTextHandler(&bytes.Buffer{}, nil)})
}

func loggerPanicReceiver(t *testing.T, fn func(ctx context.Context) error, opts ...Option) http.Handler {
	t.Helper()
	v, err := NewHMAC("X-Sig", "", "logger-panic-secret")
	require.NoError(t, err)
	r, err := NewReceiver(Spec[any]{Provider: "p", Verifier: v,
		Parse:  func(ev *Event) (any, error) { ev.ID, ev.Type = "evt_1", "thing"; return nil, nil },
		Handle: func(ctx context.Context, _ *Event, _ any, _ Once) error { return fn(ctx) }},
		append([]Option{WithLogger(panickyLogger())}, opts...)...)
	require.NoError(t, err)
	return r
}

func signedPost(t *testing.T, url string) (int, error) {
	t.Helper()
	s, err := NewHMACSigner("X-Sig", "", "logger-panic-secret")
	require.NoError(t, err)
	body := []byte(`{"id":"evt_1"}`)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, s.SignHeader(req.Header, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// A log handler that panics while the receiver logs a failed callback
// must not abort the delivery half-way: before the fix the panic escaped
// runInline after the reservation was taken, the connection was dropped,
// the reservation was never released (every retry answered 409 for the
// whole lease) and the watchdog stayed armed on a finished request.
func TestPanickingLoggerDoesNotStrandTheReservation(t *testing.T) {
	var calls atomic.Int32
	h := loggerPanicReceiver(t, func(context.Context) error {
		if calls.Add(1) == 1 {
			return errors.New("crm down")
		}
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	status, err := signedPost(t, srv.URL)
	require.NoError(t, err, "the failed delivery must be answered, not dropped")
	assert.Equal(t, http.StatusInternalServerError, status)

	status, err = signedPost(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the retry must run the callback, not find the failed delivery still reserved")
	assert.EqualValues(t, 2, calls.Load())
}

// The 504 at the deadline is logged while the callback still runs: a
// panicking log handler there must neither kill the process nor lose the
// answer. Runs on synctest's fake time (the deadline is a real timer).
func TestPanickingLoggerInWatchdogDoesNotKillTheProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		h := loggerPanicReceiver(t, func(context.Context) error { <-release; return nil }, WithTimeout(time.Second))
		s, err := NewHMACSigner("X-Sig", "", "logger-panic-secret")
		require.NoError(t, err)
		body := []byte(`{"id":"evt_1"}`)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		require.NoError(t, s.SignHeader(req.Header, body))
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
		assert.Equal(t, time.Second, time.Since(start), "answered at the deadline")
	})
}

// nilCauseError is a careless user's error: its Error method panics on
// a nil cause. It claims to be a callback failure, so nothing wraps it.
type nilCauseError struct{ cause error }

func (e *nilCauseError) Error() string        { return "retry later: " + e.cause.Error() }
func (e *nilCauseError) Is(target error) bool { return target == ErrCallbackFailed }

// TestPanickingErrorMessageAnswers500: a callback error whose Error method
// panics is still a failed callback: the delivery is answered 500 (not a
// dropped connection), logged with a message naming the error's type, and
// its retry is processed.
func TestPanickingErrorMessageAnswers500(t *testing.T) {
	var logs bytes.Buffer
	var calls atomic.Int32
	v, err := NewHMAC("X-Sig", "", "logger-panic-secret")
	require.NoError(t, err)
	r, err := NewReceiver(Spec[any]{Provider: "p", Verifier: v,
		Parse: func(ev *Event) (any, error) { ev.ID, ev.Type = "evt_1", "thing"; return nil, nil },
		Handle: func(ctx context.Context, _ *Event, _ any, _ Once) error {
			if calls.Add(1) == 1 {
				return &nilCauseError{}
			}
			return nil
		}}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(r)
	defer srv.Close()

	status, err := signedPost(t, srv.URL)
	require.NoError(t, err, "the failed delivery must be answered, not dropped")
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Contains(t, logs.String(), "nilCauseError")

	status, err = signedPost(t, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the retry is processed")
	assert.Equal(t, int32(2), calls.Load())
}
