package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type countingLimiter struct {
	n   atomic.Int32
	err error
}

func (l *countingLimiter) Wait(context.Context) error { l.n.Add(1); return l.err }

// TestLimiterBeforeEveryAttempt: the limiter is consulted before the first
// attempt and before each retry; its error stops the call before sending.
func TestLimiterBeforeEveryAttempt(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(503)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	lim := &countingLimiter{}
	c, err := New(Config{Provider: "p", BaseURL: srv.URL, Auth: Bearer("x"), Limiter: lim,
		Retry: &RetryPolicy{MaxRetries: 3, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}})
	require.NoError(t, err)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(3), hits.Load())
	assert.Equal(t, int32(3), lim.n.Load(), "one wait per attempt")

	stop := errors.New("budget gone")
	lim2 := &countingLimiter{err: stop}
	c2, err := New(Config{Provider: "p", BaseURL: srv.URL, Auth: Bearer("x"), Limiter: lim2})
	require.NoError(t, err)
	before := hits.Load()
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	assert.ErrorIs(t, err, stop)
	var re *RequestError
	assert.ErrorAs(t, err, &re)
	assert.Equal(t, before, hits.Load(), "nothing sent")
}
