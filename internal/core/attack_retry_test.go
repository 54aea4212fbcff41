package core

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackRetryAfterEdgeValues: every Retry-After form a server may send
// is honoured (seconds, date), capped at MaxDelay, or ignored for the
// backoff (garbage, negative, a date in the past). A number too large for
// int64 still means "wait long": it is capped, not treated as garbage
// (which would retry after the short backoff).
func TestAttackRetryAfterEdgeValues(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // newAutoAdvance's start
	backoff := 100 * time.Millisecond
	maxDelay := 2 * time.Second
	cases := map[string]struct {
		header string
		want   time.Duration
	}{
		"zero":          {"0", backoff},
		"negative":      {"-5", backoff},
		"past date":     {now.Add(-time.Hour).Format(http.TimeFormat), backoff},
		"decimal":       {"1.5", backoff},
		"spaces":        {"  1  ", time.Second},
		"empty":         {"", backoff},
		"huge":          {"86400000", maxDelay},
		"beyond int64":  {"99999999999999999999", maxDelay},
		"date far away": {now.AddDate(50, 0, 0).Format(http.TimeFormat), maxDelay},
		"rfc850 date":   {now.Add(time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Second},
		"control chars": {"1\x00", backoff},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header()["Retry-After"] = []string{tc.header}
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			a := newAutoAdvance(t)
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake })
			_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
			require.NoError(t, err)
			assert.Equal(t, []time.Duration{tc.want}, a.Delays(), "Retry-After %q", tc.header)
		})
	}
	d, ok := ParseRetryAfter("99999999999999999999", now)
	assert.True(t, ok, "an overflowing number of seconds is still a delay")
	assert.Equal(t, 24*time.Hour, d, "capped like any huge value")
	_, ok = ParseRetryAfter("-99999999999999999999", now)
	assert.False(t, ok)
}

// TestAttackBackoffNoOverflow: a policy with a very large MaxDelay (no
// practical cap) and many retries must never compute a zero or negative
// wait (an immediate retry storm) nor panic in the jitter.
func TestAttackBackoffNoOverflow(t *testing.T) {
	for _, p := range []RetryPolicy{
		{MaxRetries: 100, BaseDelay: time.Second, MaxDelay: math.MaxInt64},
		{MaxRetries: 100, BaseDelay: math.MaxInt64, MaxDelay: math.MaxInt64},
		{MaxRetries: 100, BaseDelay: time.Second, MaxDelay: math.MaxInt64, Jitter: noJitter},
		{MaxRetries: 100, BaseDelay: math.MaxInt64 / 3, MaxDelay: math.MaxInt64},
	} {
		require.NoError(t, p.validate())
		prev := time.Duration(0)
		for attempt := 1; attempt <= 100; attempt++ {
			d := p.backoff(attempt)
			require.Positive(t, d, "attempt %d of %+v", attempt, p.BaseDelay)
			require.LessOrEqual(t, d, p.MaxDelay)
			if p.Jitter != nil {
				require.GreaterOrEqual(t, d, prev, "backoff never shrinks")
				prev = d
			}
		}
		for _, server := range []time.Duration{time.Second, 24 * time.Hour} {
			var d time.Duration
			require.NotPanics(t, func() { d = p.serverDelay(server) })
			assert.GreaterOrEqual(t, d, server, "never shorter than the server asked (below the cap)")
			assert.LessOrEqual(t, d, p.MaxDelay)
		}
	}
}

// blockingLimiter parks every Wait until ctx is done, telling waiting.
type blockingLimiter struct {
	waiting chan struct{}
	calls   atomic.Int32
	// pass lets the first pass calls through at once.
	pass int32
}

func (l *blockingLimiter) Wait(ctx context.Context) error {
	if l.calls.Add(1) <= l.pass {
		return nil
	}
	l.waiting <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestAttackCancelDuringLimiterWait: a cancellation or deadline while the
// limiter holds the first attempt or a retry returns at once with an error
// matching the context's, typed as a RequestError, and sends nothing more.
func TestAttackCancelDuringLimiterWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		pass int32
		want error
	}{
		{"first attempt, cancel", 0, context.Canceled},
		{"retry, cancel", 1, context.Canceled},
		{"first attempt, deadline", 0, context.DeadlineExceeded},
		{"retry, deadline", 1, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			defer srv.Close()
			lim := &blockingLimiter{waiting: make(chan struct{}, 1), pass: tc.pass}
			a := newAutoAdvance(t)
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake; cfg.Limiter = lim })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.want == context.DeadlineExceeded {
				// A deadline in the past of a derived context the test
				// ends by hand: no real time passes.
				var cancelDL context.CancelFunc
				ctx, cancelDL = context.WithDeadline(ctx, time.Now().Add(time.Hour))
				defer cancelDL()
				ctx = deadlineOnCancel{ctx}
			}
			errc := make(chan error, 1)
			go func() {
				_, err := c.Do(ctx, &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/x"}, nil)
				errc <- err
			}()
			<-lim.waiting
			cancel()
			err := <-errc
			assert.ErrorIs(t, err, tc.want)
			var re *RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "Things.Get", re.Operation)
			assert.Equal(t, tc.pass, hits.Load(), "nothing sent after the limiter gave up")
			assert.Equal(t, int(tc.pass), re.Attempts, "attempts that were sent")
		})
	}
}

// deadlineOnCancel reports DeadlineExceeded once its parent is done, as a
// context whose deadline passed would, without waiting for a real clock.
type deadlineOnCancel struct{ context.Context }

func (d deadlineOnCancel) Err() error {
	if d.Context.Err() != nil {
		return context.DeadlineExceeded
	}
	return nil
}

// TestAttackCancelDuringTokenMint: a caller whose context ends while the
// shared token fetch is in flight returns at once with the context's
// error; the fetch goes on for the others and is not repeated.
func TestAttackCancelDuringTokenMint(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var mints atomic.Int32
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		mints.Add(1)
		started <- struct{}{}
		<-release
		return Token{Value: "minted"}, nil
	}, 0, nil)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, &Request{Method: http.MethodGet, Route: "/x"}, nil)
		errc <- err
	}()
	<-started
	cancel()
	err = <-errc
	assert.ErrorIs(t, err, context.Canceled)
	var re *RequestError
	assert.ErrorAs(t, err, &re)
	assert.Zero(t, hits.Load())
	close(release)
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(1), mints.Load(), "the abandoned fetch served the next call")
}

// TestAttackConnectionReuse: every answer the client reads (success with
// and without a length, empty, 204, an error with a body, a retried 503, a
// body that fails to decode) leaves the connection reusable: one TCP
// connection serves the whole sequence.
func TestAttackConnectionReuse(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"a":1}`))
		case "/chunked":
			f := w.(http.Flusher)
			_, _ = w.Write([]byte(`{"a":`))
			f.Flush()
			_, _ = w.Write([]byte(`2}`))
		case "/empty":
			w.WriteHeader(http.StatusOK)
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/404":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not found","pad":"` + strings.Repeat("x", 10<<10) + `"}`))
		case "/503":
			if n.Add(1)%2 == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("busy"))
				return
			}
			_, _ = w.Write([]byte(`{"a":3}`))
		case "/html":
			_, _ = w.Write([]byte("<html>oops</html>"))
		}
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	a := newAutoAdvance(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake; cfg.HTTPClient = srv.Client() })
	for i := 0; i < 3; i++ {
		for _, p := range []string{"/json", "/chunked", "/empty", "/204", "/404", "/503", "/html"} {
			var out map[string]any
			_, _ = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: p}, &out)
		}
	}
	assert.Equal(t, int32(1), conns.Load(), "one connection for every sequential call")
}

// TestAttackDecodeErrorsTyped: a 2xx body that is not the JSON the call
// expects is a *DecodeError reachable with errors.As, wrapping the JSON
// error, with the status and the start of the body; an empty body with
// RequireResult wraps ErrEmptyBody; without it, out is left alone.
func TestAttackDecodeErrorsTyped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			_, _ = w.Write([]byte("<html>" + strings.Repeat("y", 4096) + "</html>"))
		case "/truncated":
			_, _ = w.Write([]byte(`{"a":`))
		case "/type":
			_, _ = w.Write([]byte(`{"a":"not a number"}`))
		case "/null":
			_, _ = w.Write([]byte(" null \n"))
		case "/empty":
			w.WriteHeader(http.StatusCreated)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	type out struct{ A int }
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	for _, tc := range []struct {
		path   string
		target any
	}{{"/html", &syntax}, {"/truncated", nil}, {"/type", &typ}} {
		var o out
		_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: tc.path}, &o)
		var de *DecodeError
		require.ErrorAs(t, err, &de, tc.path)
		assert.Equal(t, http.StatusOK, de.StatusCode)
		assert.LessOrEqual(t, len(de.Body), 512, "the body kept is capped")
		assert.Contains(t, err.Error(), "Things.Get")
		if tc.target != nil {
			assert.ErrorAs(t, err, tc.target, tc.path)
		}
	}
	for _, p := range []string{"/null", "/empty"} {
		o := out{A: 7}
		_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: p, RequireResult: true}, &o)
		var de *DecodeError
		require.ErrorAs(t, err, &de, p)
		assert.ErrorIs(t, err, ErrEmptyBody, p)
		o = out{A: 7}
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: p}, &o)
		require.NoError(t, err, p)
		assert.Equal(t, 7, o.A, "out untouched by %s", p)
		assert.NotNil(t, resp)
	}
}

// TestAttackNonJSONErrorBodies: an error answer that is HTML, binary or
// huge is still an *APIError (never a DecodeError), with its message
// kept to one short line and the body capped.
func TestAttackNonJSONErrorBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>\n<body>Bad\tgateway</body>\n</html>"))
		case "/binary":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte{0x00, 0x01, 0xff, 0xfe})
		case "/huge":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(strings.Repeat("z", 1<<20)))
		case "/badjson":
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error": {"code": 5, "message": ["x"]}`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry = &RetryPolicy{} })
	for _, p := range []string{"/html", "/binary", "/huge", "/badjson"} {
		_, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: p}, nil)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, p)
		var de *DecodeError
		assert.False(t, errors.As(err, &de), p)
		assert.LessOrEqual(t, len(apiErr.Body), MaxErrorBody, p)
		assert.NotContains(t, err.Error(), "\n", p)
		assert.Less(t, len(err.Error()), 400, p)
	}
}

// TestAttackConcurrentUse hammers one client from many goroutines with a
// refreshing credential, a logger, an observer, a limiter and a mix of
// answers (success, 401 with re-mint, 503 retried); run with -race.
func TestAttackConcurrentUse(t *testing.T) {
	var gen atomic.Int32
	var current atomic.Value
	current.Store("t0")
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 7 {
		case 3:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case 5:
			// Rotate: the token in use is rejected once.
			current.Store("t" + string(rune('0'+gen.Add(1)%10)))
		}
		if r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		return Token{Value: current.Load().(string)}, nil
	}, 0, nil)
	require.NoError(t, err)
	a := newAutoAdvance(t)
	var logs strings.Builder // slog's handler serialises its writes
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = a.fake
		cfg.Auth = auth
		cfg.Limiter = passLimiter{}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	wait := concurrently(32, func(i int) {
		for j := 0; j < 10; j++ {
			var out struct{ OK bool }
			_, _ = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x", Body: map[string]int{"i": i}}, &out)
			_ = c.String()
		}
	})
	wait()
	assert.NotContains(t, logs.String(), "Bearer t", "no token in the debug log")
}

type passLimiter struct{}

func (passLimiter) Wait(ctx context.Context) error { return ctx.Err() }

// TestAttackLimiterSeesEveryAttempt: the limiter is waited on before the
// first attempt, each retry and the replay after a 401.
func TestAttackLimiterSeesEveryAttempt(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	var mints atomic.Int32
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		return Token{Value: "m" + string(rune('0'+mints.Add(1)))}, nil
	}, 0, nil)
	require.NoError(t, err)
	lim := &blockingLimiter{waiting: make(chan struct{}, 1), pass: 100}
	a := newAutoAdvance(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake; cfg.Auth = auth; cfg.Limiter = lim })
	resp, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(3), n.Load())
	assert.Equal(t, int32(3), lim.calls.Load(), "one limiter wait per attempt sent")
	assert.Equal(t, 2, resp.Attempts, "the 401 replay does not count as a retry")
	assert.Equal(t, int32(2), mints.Load())
}
