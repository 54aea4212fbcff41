package webhook

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
