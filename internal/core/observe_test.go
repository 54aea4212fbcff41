package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingObserver records what the client reports, as a test's own
// implementation of ClientObserver.
type recordingObserver struct {
	mu       sync.Mutex
	events   []string
	waits    []time.Duration
	limiter  int
	mints    []error
	panicAll bool
}

type ctxKey struct{}

func (o *recordingObserver) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, fmt.Sprintf(format, args...))
}

func (o *recordingObserver) StartCall(ctx context.Context, service, op string) (context.Context, func(int, error)) {
	if o.panicAll {
		panic("observer StartCall")
	}
	o.add("call %s %s", service, op)
	return context.WithValue(ctx, ctxKey{}, op), func(status int, err error) {
		o.add("end call %d %v", status, err != nil)
	}
}

func (o *recordingObserver) StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(int, error, time.Duration)) {
	if o.panicAll {
		panic("observer StartAttempt")
	}
	o.add("attempt %s %d in %v", method, attempt, ctx.Value(ctxKey{}))
	return ctx, func(status int, err error, wait time.Duration) {
		o.mu.Lock()
		o.waits = append(o.waits, wait)
		o.mu.Unlock()
		o.add("end attempt %d %v", status, err != nil)
	}
}

func (o *recordingObserver) LimiterWait(context.Context, time.Duration) {
	if o.panicAll {
		panic("observer LimiterWait")
	}
	o.mu.Lock()
	o.limiter++
	o.mu.Unlock()
}

func (o *recordingObserver) TokenMint(_ context.Context, _ time.Duration, err error) {
	if o.panicAll {
		panic("observer TokenMint")
	}
	o.mu.Lock()
	o.mints = append(o.mints, err)
	o.mu.Unlock()
}

func TestObserverSeesRetriedCall(t *testing.T) {
	srv, _ := testkit.FailOnce(t, http.StatusServiceUnavailable, "1", `{"ok":true}`)
	a := newAutoAdvance(t)
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = a.fake
		cfg.Observer = obs
		cfg.Service = "siro-user"
		cfg.Limiter = &countingLimiter{}
	})
	var out struct{ OK bool }
	_, err := c.Do(context.Background(), &Request{Operation: "Recordings.Details", Method: http.MethodGet, Route: "/v1/recordings/{id}", PathParams: []string{"rec_1"}}, &out)
	require.NoError(t, err)
	assert.True(t, out.OK)
	assert.Equal(t, []string{
		"call siro-user Recordings.Details",
		"attempt GET 1 in Recordings.Details",
		"end attempt 503 true",
		"attempt GET 2 in Recordings.Details",
		"end attempt 200 false",
		"end call 200 false",
	}, obs.events)
	require.Len(t, obs.waits, 2)
	assert.Equal(t, time.Second, obs.waits[0], "the planned wait after the 503 (Retry-After 1, no jitter)")
	assert.Equal(t, []time.Duration{time.Second}, a.Delays(), "the wait reported is the wait made")
	assert.Zero(t, obs.waits[1])
	assert.Equal(t, 2, obs.limiter, "one limiter wait per attempt")
}

func TestObserverServiceDefaultsToProviderAndFailedCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = obs })
	_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things"}, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"call test Things.Get", "attempt GET 1 in Things.Get", "end attempt 404 true", "end call 404 true"}, obs.events)
}

func TestObserverPanicsAreRecovered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	obs := &recordingObserver{panicAll: true}
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		return Token{Value: "minted"}, nil
	}, 0, nil)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Observer = obs
		cfg.Auth = auth
		cfg.Limiter = &countingLimiter{}
	})
	_, err = c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things"}, nil)
	require.NoError(t, err, "a panicking observer does not break the call")
}

func TestObserverEndPanicsAreRecovered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = panickingEnds{} })
	_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things"}, nil)
	require.NoError(t, err)
}

type panickingEnds struct{}

func (panickingEnds) StartCall(ctx context.Context, _, _ string) (context.Context, func(int, error)) {
	return nil, func(int, error) { panic("end call") } // a nil context is replaced too
}

func (panickingEnds) StartAttempt(ctx context.Context, _ string, _ int) (context.Context, func(int, error, time.Duration)) {
	return ctx, func(int, error, time.Duration) { panic("end attempt") }
}
func (panickingEnds) LimiterWait(context.Context, time.Duration)      {}
func (panickingEnds) TokenMint(context.Context, time.Duration, error) {}

func TestObserverSeesTokenMints(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer minted" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var fetches atomic.Int32
	mintErr := errors.New("token endpoint down")
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		if fetches.Add(1) == 1 {
			return Token{}, mintErr
		}
		return Token{Value: "minted"}, nil
	}, 0, nil)
	require.NoError(t, err)
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = obs; cfg.Auth = auth })
	req := &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things"}
	_, err = c.Do(context.Background(), req, nil)
	require.ErrorIs(t, err, mintErr)
	_, err = c.Do(context.Background(), req, nil)
	require.NoError(t, err)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Len(t, obs.mints, 2)
	assert.ErrorIs(t, obs.mints[0], mintErr)
	assert.NoError(t, obs.mints[1])
}

// TestServerDelayNeverExceedsMaxDelay: issue 22. Jitter used to be added
// on top of the capped server delay (44.5 s planned with MaxDelay 30 s).
func TestServerDelayNeverExceedsMaxDelay(t *testing.T) {
	p := RetryPolicy{MaxRetries: 2, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}
	for _, ra := range []time.Duration{time.Second, 25 * time.Second, 30 * time.Second, 45 * time.Second, time.Hour} {
		for range 2000 {
			d := p.serverDelay(ra)
			require.LessOrEqual(t, d, p.MaxDelay, "Retry-After %v", ra)
			require.GreaterOrEqual(t, d, min(ra, p.MaxDelay), "never shorter than the server asked (up to the cap)")
		}
	}
	p.Jitter = func(d time.Duration) time.Duration { return 3 * d }
	assert.Equal(t, 30*time.Second, p.serverDelay(20*time.Second), "a custom jitter is capped too")
	assert.Equal(t, 12*time.Second, p.serverDelay(4*time.Second))
}

func TestRetryAfterWaitCappedByMaxDelay(t *testing.T) {
	srv, hits := testkit.FailOnce(t, http.StatusTooManyRequests, "29", `{}`)
	a := newAutoAdvance(t)
	// The default jitter: up to max(d/2, BaseDelay) on top of 29 s.
	c, plannedp := delayRecordingClient(t, srv.URL, a, RetryPolicy{MaxRetries: 1, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second})
	for range 20 {
		hits.Store(0)
		_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things"}, nil)
		require.NoError(t, err)
	}
	planned := *plannedp
	require.Len(t, planned, 20)
	for _, d := range planned {
		assert.LessOrEqual(t, d, 30*time.Second)
		assert.GreaterOrEqual(t, d, 29*time.Second)
	}
	for _, d := range a.Delays() {
		assert.LessOrEqual(t, d, 30*time.Second)
	}
}

// delayRecordingClient returns a client of url on a's fake clock retrying
// by p, and the delays its OnRetry planned.
func delayRecordingClient(t *testing.T, url string, a *autoAdvance, p RetryPolicy) (*Client, *[]time.Duration) {
	t.Helper()
	var planned []time.Duration
	p.OnRetry = func(i RetryInfo) { planned = append(planned, i.Delay) }
	return newTestClient(t, url, func(cfg *Config) { cfg.Clock = a.fake; cfg.Retry = &p }), &planned
}
