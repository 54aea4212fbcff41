package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callcrm/callcrm-go/internal/apierr"
	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Println("goroutines left running after tests:\n" + leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines reports the goroutines running this package's code
// that are parked once none of them can still run. A goroutine that has
// already told its test it is done (closed a channel, called wg.Done) and
// is only returning is running or runnable: the check yields the
// processor until it has exited, with no wait in real time. One parked on
// a channel, a lock, I/O or a timer was left behind by a test and is
// reported: no test may leave a goroutine waiting, so there is nothing
// to wait for.
func leakedGoroutines() string {
	http.DefaultClient.CloseIdleConnections()
	giveUp := time.Now().Add(10 * time.Second) // only a goroutine spinning forever lasts this long
	for {
		var parked, moving []string
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if !strings.Contains(g, "callcrm-go/internal/core.") || strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "TestMain") {
				continue
			}
			if parkedStates[goroutineState(g)] {
				parked = append(parked, g)
			} else {
				moving = append(moving, g)
			}
		}
		if len(moving) == 0 || time.Now().After(giveUp) {
			return strings.Join(append(parked, moving...), "\n\n")
		}
		runtime.Gosched()
	}
}

// parkedStates are the wait reasons of runtime.Stack that only another
// goroutine, I/O or a timer ends. Anything else (running, runnable, in a
// system call, preempted, assisting the GC) is still moving.
var parkedStates = map[string]bool{
	"chan receive": true, "chan send": true, "chan receive (nil chan)": true, "chan send (nil chan)": true,
	"select": true, "select (no cases)": true, "sleep": true, "IO wait": true, "semacquire": true,
	"sync.Cond.Wait": true, "sync.Mutex.Lock": true, "sync.RWMutex.RLock": true, "sync.RWMutex.Lock": true,
	"sync.WaitGroup.Wait": true, "coroutine": true, "leaked": true,
	"chan receive (durable)": true, "chan send (durable)": true, "select (durable)": true, "sync.WaitGroup.Wait (durable)": true,
}

// goroutineState is the state in a runtime.Stack header, "goroutine 7
// [chan receive, 2 minutes]:" giving "chan receive".
func goroutineState(g string) string {
	_, rest, _ := strings.Cut(g, "[")
	state, _, _ := strings.Cut(rest, "]")
	state, _, _ = strings.Cut(state, ",")
	return state
}

// autoAdvance fires every backoff wait on the fake clock at once and records
// the delays the client asked for.
type autoAdvance struct {
	fake   *clock.Fake
	mu     sync.Mutex
	delays []time.Duration
	stop   chan struct{}
	done   chan struct{}
}

func newAutoAdvance(t *testing.T) *autoAdvance {
	a := &autoAdvance{fake: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for {
			select {
			case <-a.stop:
				return
			default:
			}
			if a.fake.BlockUntilWaiters(1, 5*time.Millisecond) {
				d, _ := a.fake.NextWait()
				a.mu.Lock()
				a.delays = append(a.delays, d)
				a.mu.Unlock()
				a.fake.Advance(d)
			}
		}
	}()
	t.Cleanup(func() { close(a.stop); <-a.done })
	return a
}

func (a *autoAdvance) Delays() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.delays...)
}

func noJitter(d time.Duration) time.Duration { return d }

func newTestClient(t *testing.T, url string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{Provider: "test", BaseURL: url, Auth: Bearer("tok"),
		Retry: &RetryPolicy{MaxRetries: 2, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second, Jitter: noJitter}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func TestNewValidates(t *testing.T) {
	cases := map[string]Config{
		"no provider":      {BaseURL: "https://x"},
		"empty base":       {Provider: "p"},
		"relative base":    {Provider: "p", BaseURL: "/api"},
		"ftp base":         {Provider: "p", BaseURL: "ftp://x"},
		"query in base":    {Provider: "p", BaseURL: "https://x/?a=1"},
		"negative retries": {Provider: "p", BaseURL: "https://x", Retry: &RetryPolicy{MaxRetries: -1}},
		"zero base delay":  {Provider: "p", BaseURL: "https://x", Retry: &RetryPolicy{MaxRetries: 1}},
		"max below base":   {Provider: "p", BaseURL: "https://x", Retry: &RetryPolicy{MaxRetries: 1, BaseDelay: time.Second, MaxDelay: time.Millisecond}},
		"ua newline":       {Provider: "p", BaseURL: "https://x", UserAgent: "a\r\nX-Evil: 1"},
		"negative maxbody": {Provider: "p", BaseURL: "https://x", MaxResponseBytes: -1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidOption)
		})
	}
	c, err := New(Config{Provider: "p", BaseURL: "https://api.example.com/api-externalApi/"})
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/api-externalApi", c.BaseURL())
}

func TestHTTPClientIsCopiedNotMutated(t *testing.T) {
	hc := &http.Client{Timeout: 7 * time.Second}
	c, err := New(Config{Provider: "p", BaseURL: "https://x", HTTPClient: hc})
	require.NoError(t, err)
	c.http.Timeout = time.Second
	assert.Equal(t, 7*time.Second, hc.Timeout)
}

func TestRequestShape(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.Header().Set("X-Request-Id", "req_1")
		_, _ = w.Write([]byte(`{"name":"ok","n":3}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/base/", nil)
	type q struct {
		Flag  bool   `url:"flag"`
		Zero  int    `url:"zero"`
		Empty string `url:"empty,omitempty"`
		Gte   string `url:"updatedAt:gte,omitempty"`
	}
	var out struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	resp, err := c.Do(context.Background(), &Request{Operation: "Things.Put", Method: http.MethodPut, Route: "/v1/things/{id}/sub/{sub}",
		PathParams: []string{"a/b c", "ü?#"}, Query: q{Flag: false, Zero: 0, Gte: "2024-01-01T00:00:00.000Z"},
		Body: map[string]any{"x": 1}}, &out)
	require.NoError(t, err)
	assert.Equal(t, "PUT", got.Method)
	assert.Equal(t, "/base/v1/things/a%2Fb%20c/sub/%C3%BC%3F%23", got.URL.EscapedPath())
	assert.Equal(t, "flag=false&updatedAt:gte=2024-01-01T00%3A00%3A00.000Z&zero=0", got.URL.RawQuery)
	assert.Equal(t, "Bearer tok", got.Header.Get("Authorization"))
	assert.Equal(t, UserAgent, got.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.JSONEq(t, `{"x":1}`, string(body))
	assert.Equal(t, "ok", out.Name)
	assert.Equal(t, 3, out.N)
	assert.Equal(t, "req_1", resp.RequestID)
	assert.Equal(t, 1, resp.Attempts)
}

func TestExpandRouteRejects(t *testing.T) {
	for _, p := range [][]string{{""}, {"."}, {".."}, {}, {"a", "b"}} {
		_, err := ExpandRoute("/v1/x/{id}", p)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%q", p)
	}
	s, err := ExpandRoute("/v1/x/{id}", []string{"..a"})
	require.NoError(t, err)
	assert.Equal(t, "/v1/x/..a", s)
}

func TestMissingCredentialFailsBeforeRequest(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = nil; cfg.CredentialName = "org token (use WithOrgToken)" })
	_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	require.ErrorIs(t, err, ErrMissingCredential)
	assert.Contains(t, err.Error(), "org token")
	assert.Zero(t, hits.Load())
}

func TestRetryMatrix(t *testing.T) {
	statuses := []int{400, 401, 403, 404, 408, 409, 422, 425, 429, 500, 501, 502, 503, 504}
	methods := []string{"GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"}
	for _, m := range methods {
		for _, s := range statuses {
			for _, key := range []bool{false, true} {
				if key && m != "POST" && m != "PATCH" {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/key=%v", m, s, key), func(t *testing.T) {
					var hits atomic.Int32
					var keys sync.Map
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						hits.Add(1)
						keys.Store(r.Header.Get("Idempotency-Key"), true)
						w.WriteHeader(s)
					}))
					defer srv.Close()
					a := newAutoAdvance(t)
					c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake; cfg.Auth = Bearer("tok") })
					req := &Request{Method: m, Route: "/x"}
					if key {
						req.IdempotencyKey = "key-123"
					}
					_, err := c.Do(context.Background(), req, nil)
					var apiErr *APIError
					require.ErrorAs(t, err, &apiErr)
					assert.Equal(t, s, apiErr.StatusCode)
					retryStatus := map[int]bool{408: true, 425: true, 429: true, 500: true, 502: true, 503: true, 504: true}[s]
					retryMethod := m != "POST" && m != "PATCH" || key
					want := 1
					if retryStatus && retryMethod {
						want = 3
					}
					assert.Equal(t, int32(want), hits.Load())
					n := 0
					keys.Range(func(k, _ any) bool {
						n++
						if key {
							assert.Equal(t, "key-123", k)
						}
						return true
					})
					assert.Equal(t, 1, n, "the same idempotency key on every attempt")
					if want == 3 {
						assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, a.Delays())
					}
				})
			}
		}
	}
}

func TestRetryThenSuccessReplaysBody(t *testing.T) {
	var n atomic.Int32
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if n.Add(1) < 3 {
			w.WriteHeader(503)
			_, _ = w.Write(bytes.Repeat([]byte("x"), 200<<10)) // larger than the drain bound
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	a := newAutoAdvance(t)
	var infos []RetryInfo
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = a.fake
		cfg.Retry.OnRetry = func(i RetryInfo) { infos = append(infos, i) }
	})
	var out struct{ OK bool }
	resp, err := c.Do(context.Background(), &Request{Method: "PUT", Route: "/x", Body: map[string]int{"a": 1}}, &out)
	require.NoError(t, err)
	assert.True(t, out.OK)
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, []string{`{"a":1}`, `{"a":1}`, `{"a":1}`}, bodies)
	require.Len(t, infos, 2)
	assert.Equal(t, 503, infos[0].StatusCode)
	assert.Equal(t, 1, infos[0].Attempt)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		header string
		want   time.Duration
	}{
		"seconds":     {"1", time.Second},
		"date":        {now.Add(1500 * time.Millisecond).Format(http.TimeFormat), time.Second}, // HTTP dates have 1s resolution
		"capped":      {"3600", 2 * time.Second},
		"date capped": {now.Add(time.Hour).Format(http.TimeFormat), 2 * time.Second},
		"garbage":     {"soon", 100 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tc.header)
					w.WriteHeader(429)
					return
				}
				w.WriteHeader(204)
			}))
			defer srv.Close()
			a := newAutoAdvance(t)
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake })
			_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
			require.NoError(t, err)
			assert.Equal(t, []time.Duration{tc.want}, a.Delays())
		})
	}
	d, ok := ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC))
	assert.True(t, ok)
	assert.Equal(t, time.Minute, d)
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	fake := clock.NewFake(time.Now()) // never advanced: the wait would last forever
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = fake })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, &Request{Method: "GET", Route: "/x"}, nil)
		errc <- err
	}()
	require.True(t, fake.BlockUntilWaiters(1, 5*time.Second))
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 100*time.Millisecond)
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return after cancel")
	}
}

func TestDeadlineShorterThanBackoffReturnsLastError(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	fake := clock.NewFake(time.Now())
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = fake; cfg.Retry.MaxDelay = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &Request{Method: "GET", Route: "/x"}, nil)
	assert.Less(t, time.Since(start), time.Second)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, 20*time.Second, apiErr.RetryAfter)
	assert.Equal(t, int32(1), hits.Load())
}

func TestNetworkErrorRetriedForGetNotPost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	u := srv.URL
	srv.Close() // connection refused from now on
	for _, m := range []string{"GET", "POST"} {
		a := newAutoAdvance(t)
		c := newTestClient(t, u, func(cfg *Config) { cfg.Clock = a.fake })
		_, err := c.Do(context.Background(), &Request{Method: m, Route: "/x"}, nil)
		var rerr *RequestError
		require.ErrorAs(t, err, &rerr)
		if m == "GET" {
			assert.Equal(t, 3, rerr.Attempts)
		} else {
			assert.Equal(t, 1, rerr.Attempts)
		}
		assert.Contains(t, err.Error(), "test: "+m+" /x")
	}
}

func TestTLSFailureNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	a := newAutoAdvance(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake }) // default client does not trust the test CA
	_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	require.Error(t, err)
	assert.Empty(t, a.Delays())
}

func TestErrorDecoding(t *testing.T) {
	cases := []struct {
		status   int
		ctype    string
		body     string
		sentinel error
		code     string
		msg      string
		issues   int
	}{
		{400, "application/json", `{"error":"bad cursor"}`, apierr.ErrBadRequest, "", "bad cursor", 0},
		{401, "application/json", `{"success":false,"error":{"code":"UNAUTHORIZED","message":"Invalid token","details":{"hint":"x"}}}`, apierr.ErrUnauthorized, "UNAUTHORIZED", "Invalid token", 0},
		{403, "text/plain", "Forbidden - User does not have access", apierr.ErrForbidden, "", "Forbidden - User does not have access", 0},
		{404, "application/json", `{"message":"nope","code":404}`, apierr.ErrNotFound, "404", "nope", 0},
		{409, "text/plain", "Duplicate connection", apierr.ErrConflict, "", "Duplicate connection", 0},
		{422, "application/json", `{"issues":[{"code":"invalid_type","expected":"string","received":"undefined","path":["engagement",0,"externalId"],"message":"Required"}],"name":"ZodError"}`, apierr.ErrBadRequest, "", "", 1},
		{429, "", "", apierr.ErrRateLimited, "", "", 0},
		{500, "application/json", `not json`, apierr.ErrServer, "", "not json", 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Header().Set("X-Request-Id", "rid")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retry = &RetryPolicy{} })
			_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: "POST", Route: "/things/{id}", PathParams: []string{"abc"}}, nil)
			require.ErrorIs(t, err, tc.sentinel)
			var e *APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.msg, e.Message)
			assert.Len(t, e.Issues, tc.issues)
			assert.Equal(t, "rid", e.RequestID)
			assert.Equal(t, tc.body, string(e.Body))
			assert.NotContains(t, e.Error(), "\n")
			assert.NotContains(t, e.Error(), "abc", "the route template, not the id, is in the message")
			assert.Contains(t, e.Error(), "test: Things.Get: POST /things/{id}: ")
			if tc.issues > 0 {
				assert.Equal(t, "engagement[0].externalId", e.Issues[0].PathString())
				assert.Contains(t, e.Error(), "engagement[0].externalId: Required")
			}
		})
	}
}

func TestDecodeErrorNamesOperation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"n":"x"}`)) }))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var out struct{ N int }
	_, err := c.Do(context.Background(), &Request{Operation: "Things.Get", Method: "GET", Route: "/x"}, &out)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "test: Things.Get: decoding 200 response")
}

func TestResponseBodyCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`"` + strings.Repeat("a", 2000) + `"`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = 1000 })
	var s string
	_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, &s)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "exceeds 1000 bytes")
}

// TestResponseBodyLargestCap: the largest MaxResponseBytes reads the body
// (the cap plus the one byte that sees the end does not overflow).
func TestResponseBodyLargestCap(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write([]byte(`"abc"`))
		}))
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = math.MaxInt64 })
		var s string
		_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, &s)
		srv.Close()
		require.NoError(t, err, "chunked %v", chunked)
		assert.Equal(t, "abc", s)
	}
}

func TestRefreshOn401ReplaysOnce(t *testing.T) {
	var mints atomic.Int32
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Auth") != "tok-2" {
			w.WriteHeader(401)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	auth, err := NewRefreshingAuth("X-Auth", "", func(context.Context) (Token, error) {
		return Token{Value: fmt.Sprintf("tok-%d", mints.Add(1))}, nil
	}, 0, nil)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	var out map[string]int
	_, err = c.Do(context.Background(), &Request{Method: "POST", Route: "/x", Body: map[string]int{"a": 1}}, &out)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 1}, out, "the body is replayed")
	assert.Equal(t, int32(2), mints.Load())
	assert.Equal(t, int32(2), hits.Load())

	// A server that keeps answering 401: one replay, then the error.
	hits.Store(0)
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(401) }))
	defer srv2.Close()
	c2 := newTestClient(t, srv2.URL, func(cfg *Config) { cfg.Auth = auth })
	_, err = c2.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	assert.ErrorIs(t, err, apierr.ErrUnauthorized)
	assert.Equal(t, int32(2), hits.Load())
}

// TestRefreshingAuthExpiryAndSingleFlight runs in a synctest bubble: the
// token function is in memory, so synctest.Wait proves every caller is
// parked (on the one fetch) before the fetch is let finish.
func TestRefreshingAuthExpiryAndSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		var mints atomic.Int32
		release := make(chan struct{})
		auth, err := NewRefreshingAuth("X-Auth", "Bearer ", func(ctx context.Context) (Token, error) {
			n := mints.Add(1)
			<-release
			return Token{Value: fmt.Sprintf("t%d", n), Expiry: fake.Now().Add(16 * time.Hour)}, nil
		}, time.Minute, fake)
		require.NoError(t, err)
		vals := make([]string, 50)
		wait := concurrently(len(vals), func(i int) {
			_, v, err := auth.Credential(context.Background())
			assert.NoError(t, err)
			vals[i] = v
		})
		synctest.Wait() // every caller is blocked: all 50 asked while the fetch was in flight
		close(release)
		wait()
		assert.Equal(t, int32(1), mints.Load(), "one fetch for all concurrent callers")
		for _, v := range vals {
			assert.Equal(t, "Bearer t1", v)
		}
		fake.Advance(16*time.Hour - 2*time.Minute)
		_, v, _ := auth.Credential(context.Background())
		assert.Equal(t, "Bearer t1", v, "still valid outside the refresh margin")
		fake.Advance(90 * time.Second)
		_, v, _ = auth.Credential(context.Background())
		assert.Equal(t, "Bearer t2", v, "refreshed inside the margin")
		auth.Invalidate("Bearer stale")
		_, v, _ = auth.Credential(context.Background())
		assert.Equal(t, "Bearer t2", v, "invalidating another value keeps the token")
		auth.Invalidate("Bearer t2")
		_, v, _ = auth.Credential(context.Background())
		assert.Equal(t, "Bearer t3", v)
	})
}

// TestRefreshingAuthWaiterHonoursOwnContext runs on synctest's fake time:
// the waiter's 20 ms deadline passes at once, and the bubble ends only
// when the abandoned fetch's goroutine has exited (no goroutine outlives
// the test for TestMain's leak check).
func TestRefreshingAuthWaiterHonoursOwnContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		defer close(block)
		auth, err := NewRefreshingAuth("X", "", func(ctx context.Context) (Token, error) { <-block; return Token{Value: "v"}, nil }, 0, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, _, err = auth.Credential(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestPaginate(t *testing.T) {
	var calls []string
	fetch := func(_ context.Context, cursor string) (Page[int], error) {
		calls = append(calls, cursor)
		switch cursor {
		case "":
			return Page[int]{Items: []int{1, 2}, Next: "c2"}, nil
		case "c2":
			return Page[int]{Items: []int{3}, Next: "c3"}, nil
		case "c3":
			return Page[int]{Items: []int{4}}, nil
		}
		return Page[int]{}, errors.New("unexpected")
	}
	seq := Paginate(context.Background(), "", fetch)
	assert.Empty(t, calls, "no request until the caller ranges")
	var got []int
	for v, err := range seq {
		require.NoError(t, err)
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2, 3, 4}, got)
	assert.Equal(t, []string{"", "c2", "c3"}, calls)

	calls = nil
	for v := range seq {
		if v == 2 {
			break
		}
	}
	assert.Equal(t, []string{""}, calls, "breaking stops fetching")

	boom := errors.New("boom")
	var errs int
	for _, err := range Paginate(context.Background(), "", func(context.Context, string) (Page[int], error) { return Page[int]{}, boom }) {
		assert.ErrorIs(t, err, boom)
		errs++
	}
	assert.Equal(t, 1, errs)

	// A cursor that repeats ends the list instead of looping forever.
	n := 0
	for range Paginate(context.Background(), "", func(context.Context, string) (Page[int], error) {
		n++
		return Page[int]{Items: []int{1}, Next: "same"}, nil
	}) {
	}
	assert.Equal(t, 2, n)
}

// TestNoSecretInLogsOrErrors drives every error path with a known token and
// fails if the token appears in any log line or error string.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const secret = "sk_live_SUPERSECRET_4242"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/401":
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"bad token"}`))
		case "/500":
			n.Add(1)
			w.WriteHeader(500)
		case "/bad-json":
			_, _ = w.Write([]byte(`{`))
		case "/422":
			w.WriteHeader(422)
			_, _ = w.Write([]byte(`{"issues":[{"path":["a"],"message":"bad"}]}`))
		}
	}))
	var errs []string
	a := newAutoAdvance(t)
	mk := func(auth Auth) *Client {
		return newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth; cfg.Logger = logger; cfg.Clock = a.fake })
	}
	refreshing, err := NewRefreshingAuth("x-siro-auth-token", "", func(context.Context) (Token, error) { return Token{Value: secret}, nil }, 0, nil)
	require.NoError(t, err)
	failing, err := NewRefreshingAuth("x-siro-auth-token", "", func(context.Context) (Token, error) {
		return Token{}, errors.New("mint failed")
	}, 0, nil)
	require.NoError(t, err)
	for _, auth := range []Auth{Bearer(secret), Header("x-siro-auth-token", secret), refreshing, failing} {
		c := mk(auth)
		for _, p := range []string{"/401", "/500", "/bad-json", "/422"} {
			var out map[string]any
			_, err := c.Do(context.Background(), &Request{Method: "GET", Route: p, Header: http.Header{"Cookie": {secret}, "X-Hub-Signature": {secret}}}, &out)
			require.Error(t, err)
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
		errs = append(errs, fmt.Sprint(auth), fmt.Sprintf("%+v", auth))
	}
	srv.Close()
	c := mk(Bearer(secret))
	_, err = c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	require.Error(t, err)
	errs = append(errs, err.Error())
	require.NotEmpty(t, logs.String())
	assert.Contains(t, logs.String(), "[redacted]")
	assert.NotContains(t, logs.String(), secret)
	for _, e := range errs {
		assert.NotContains(t, e, secret)
	}
}

func TestGenericErrorHelpers(t *testing.T) {
	assert.True(t, SensitiveHeader("X-CallSync-Signature"))
	assert.True(t, SensitiveHeader("svix-signature"))
	assert.False(t, SensitiveHeader("Content-Type"))
	e := &APIError{StatusCode: 503}
	assert.True(t, e.Temporary())
	_, err := url.Parse("http://x")
	require.NoError(t, err)
	_ = json.Valid
}

func TestCredentialErrorNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	var fetches atomic.Int32
	auth, _ := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
		fetches.Add(1)
		return Token{}, errors.New("mint failed")
	}, 0, nil)
	fake := clock.NewFake(time.Now()) // never advanced: a retry would hang
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth; cfg.Clock = fake })
	_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "getting credential: mint failed")
	assert.Equal(t, int32(1), fetches.Load())
	assert.Zero(t, hits.Load())
}

// --- hardening: limits, hostile answers, redaction -----------------------

// TestRedirectToAnotherOriginRefused: a redirect to another host or port
// is refused for every redirect status and method, before anything (the
// credential, a POST body) reaches the other host.
func TestRedirectToAnotherOriginRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(fmt.Sprintf("%d %s", code, method), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/stolen?x=1", code)
				}))
				defer srv.Close()
				c := newTestClient(t, srv.URL, func(cfg *Config) {
					cfg.Auth = Header("x-siro-auth-token", "user-token-value")
					cfg.HTTPClient = &http.Client{} // the caller's own client is protected too
				})
				_, err := c.Do(context.Background(), &Request{Operation: "Thing.Make", Method: method, Route: "/x",
					Body: map[string]string{"clientSecret": "s3cr3t"}}, nil)
				require.ErrorIs(t, err, ErrRedirectRefused)
				var re *RequestError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, 1, re.Attempts, "not retried")
				assert.Contains(t, err.Error(), "Thing.Make")
				assert.Contains(t, err.Error(), srv.URL+"/x", "names where it came from")
				assert.Contains(t, err.Error(), other.URL+"/stolen", "names where it pointed")
				assert.Zero(t, elsewhere.Load(), "nothing reached the other host")
			})
		}
	}
	// A redirect on the same origin is still followed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte(`{"path":"` + r.URL.Path + `"}`))
	}))
	defer srv.Close()
	var out struct{ Path string }
	_, err := newTestClient(t, srv.URL, nil).Do(context.Background(), &Request{Method: "GET", Route: "/old"}, &out)
	require.NoError(t, err)
	assert.Equal(t, "/new", out.Path)
}

// TestRedirectDowngradeToHTTPRefused: https -> http on the same host and
// port would send every credential in clear text.
func TestRedirectDowngradeToHTTPRefused(t *testing.T) {
	var plain atomic.Int32
	srv := quietTLS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/plain", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.HTTPClient = srv.Client() })
	_, err := c.Do(context.Background(), &Request{Method: "POST", Route: "/x", Body: map[string]int{"a": 1}}, nil)
	require.ErrorIs(t, err, ErrRedirectRefused)
	assert.Contains(t, err.Error(), "http://"+strings.TrimPrefix(srv.URL, "https://")+"/plain")
	assert.Zero(t, plain.Load())
}

// TestBodyReadResetRetriedForGet: a connection that breaks after the
// headers, while the body is read, is retried like one that breaks before.
func TestBodyReadResetRetriedForGet(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"a":`))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
			return
		}
		_, _ = w.Write([]byte(`{"a":1}`))
	}))
	defer srv.Close()
	a := newAutoAdvance(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake })
	var out map[string]int
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, map[string]int{"a": 1}, out)

	// Not retried for a POST without an idempotency key, and typed.
	hits.Store(0)
	_, err = c.Do(context.Background(), &Request{Operation: "Thing.Create", Method: "POST", Route: "/x"}, &out)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "Thing.Create", re.Operation)
	assert.Equal(t, int32(1), hits.Load())
}

// TestPerAttemptTimeoutRetriedAndTyped: one attempt's timeout is retried
// for idempotent requests, and every transport failure is a RequestError
// naming the operation (never a bare *url.Error).
func TestPerAttemptTimeoutRetriedAndTyped(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	defer close(release)
	a := newAutoAdvance(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Clock = a.fake; cfg.Timeout = 100 * time.Millisecond })
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)

	hits.Store(0)
	_, err = c.Do(context.Background(), &Request{Operation: "Thing.Create", Method: "POST", Route: "/x"}, nil)
	var re *RequestError
	require.ErrorAs(t, err, &re, "%T %v", err, err)
	assert.Equal(t, "Thing.Create", re.Operation)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A TLS failure (not retried) is typed too.
	tsrv := quietTLS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tsrv.Close()
	_, err = newTestClient(t, tsrv.URL, nil).Do(context.Background(), &Request{Operation: "Thing.Get", Method: "GET", Route: "/x"}, nil)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 1, re.Attempts)
}

// TestResponseBufferBoundedByCap: a huge body is refused without the
// buffer growing past the cap (bytes.Buffer alone doubles past it), and
// an announced Content-Length over the cap is refused without reading.
func TestResponseBufferBoundedByCap(t *testing.T) {
	const limit = 3 << 20
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announced" {
			w.Header().Set("Content-Length", fmt.Sprint(100<<20))
		}
		for i := 0; i < (100<<20)/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxResponseBytes = limit })
	for _, path := range []string{"/streamed", "/announced"} {
		var buf bytes.Buffer
		_, _, err := c.DoRaw(context.Background(), &Request{Method: "GET", Route: path}, &buf)
		var de *DecodeError
		require.ErrorAs(t, err, &de, path)
		assert.LessOrEqual(t, buf.Cap(), limit+1, "%s: buffer bounded by the cap", path)
		if path == "/announced" {
			assert.Less(t, buf.Cap(), 64<<10, "nothing read")
		}
	}
	// A body under the cap is read whole with one right-sized buffer.
	small := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("b"), 100_000))
	}))
	defer small.Close()
	var buf bytes.Buffer
	body, _, err := newTestClient(t, small.URL, nil).DoRaw(context.Background(), &Request{Method: "GET", Route: "/"}, &buf)
	require.NoError(t, err)
	assert.Len(t, body, 100_000)
}

// TestRetryAfterJitterSpreadsCallers: callers told the same Retry-After do
// not all retry at the same instant; none retries before the server's
// delay.
func TestRetryAfterJitterSpreadsCallers(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		mu.Lock()
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	a := newAutoAdvance(t)
	c, delaysp := delayRecordingClient(t, srv.URL, a, RetryPolicy{MaxRetries: 2, BaseDelay: 100 * time.Millisecond, MaxDelay: 30 * time.Second})
	for i := 0; i < 50; i++ {
		_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x", Query: url.Values{"id": {fmt.Sprint(i)}}}, nil)
		require.NoError(t, err)
	}
	delays := *delaysp
	require.Len(t, delays, 50)
	lo, hi := delays[0], delays[0]
	within := 0
	for _, d := range delays {
		assert.GreaterOrEqual(t, d, time.Second, "never before the server's delay")
		lo, hi = min(lo, d), max(hi, d)
	}
	for _, d := range delays {
		if d-lo < 20*time.Millisecond {
			within++
		}
	}
	assert.Greater(t, hi-lo, 200*time.Millisecond, "spread")
	assert.Less(t, within, 25, "most callers are not within 20ms of each other")
}

// TestErrorBodyRedactsKnownSecrets: a 400 echoing the request body keeps
// neither the request's secrets nor the credential, in Error(), Message,
// Details or Body.
func TestErrorBodyRedactsKnownSecrets(t *testing.T) {
	const secret, token = "client-secret-value/+\"x", "org-token-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "bad body " + string(b) + " with " + r.Header.Get("Authorization"),
			"details": json.RawMessage(b)})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = Bearer(token) })
	_, err := c.Do(context.Background(), &Request{Method: "POST", Route: "/x",
		Body: map[string]string{"clientSecret": secret}, Secrets: []string{secret}}, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	for what, s := range map[string]string{"Error": err.Error(), "Message": apiErr.Message, "Details": string(apiErr.Details), "Body": string(apiErr.Body), "%+v": fmt.Sprintf("%+v", apiErr)} {
		assert.NotContains(t, s, "client-secret-value", what)
		assert.NotContains(t, s, token, what)
	}
	assert.Contains(t, string(apiErr.Body), "[redacted]")
}

// TestTokenInsideMarginNotRefetchedEachCall: a token that arrives inside
// the refresh margin (or already expired by a skewed local clock) is not
// fetched again on every call.
func TestTokenInsideMarginNotRefetchedEachCall(t *testing.T) {
	for name, life := range map[string]time.Duration{"inside margin": time.Minute, "clock skewed past expiry": -time.Hour} {
		t.Run(name, func(t *testing.T) {
			fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			var mints atomic.Int32
			auth, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
				return Token{Value: fmt.Sprintf("t%d", mints.Add(1)), Expiry: fake.Now().Add(life)}, nil
			}, 2*time.Minute, fake)
			require.NoError(t, err)
			for i := 0; i < 20; i++ {
				_, _, err := auth.Credential(context.Background())
				require.NoError(t, err)
				fake.Advance(time.Second)
			}
			assert.Equal(t, int32(1), mints.Load(), "20 calls, one fetch")
			fake.Advance(5 * time.Minute)
			_, v, _ := auth.Credential(context.Background())
			assert.Equal(t, "t2", v, "fetched again once really expired")
		})
	}
}

// TestMintBacksOffAfterRepeatedFailures: a failing token source is not
// called on every request.
func TestMintBacksOffAfterRepeatedFailures(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var mints atomic.Int32
	auth, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
		mints.Add(1)
		return Token{}, errors.New("mint failed")
	}, 0, fake)
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		_, _, err := auth.Credential(context.Background())
		require.ErrorContains(t, err, "mint failed")
	}
	assert.Equal(t, int32(2), mints.Load(), "two failures, then backoff")
	fake.Advance(MintBackoffBase)
	_, _, _ = auth.Credential(context.Background())
	assert.Equal(t, int32(3), mints.Load(), "tried again after the backoff")
}

// TestRepeated401sBackOffMinting: an API answering 401 forever costs a
// bounded number of mints, not one per call.
func TestRepeated401sBackOffMinting(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(401) }))
	defer srv.Close()
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var mints atomic.Int32
	auth, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
		return Token{Value: fmt.Sprintf("t%d", mints.Add(1)), Expiry: fake.Now().Add(time.Hour)}, nil
	}, 0, fake)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth; cfg.Clock = fake })
	for i := 0; i < 20; i++ {
		_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x"}, nil)
		require.ErrorIs(t, err, apierr.ErrUnauthorized)
	}
	assert.LessOrEqual(t, mints.Load(), int32(3), "mints")
	assert.LessOrEqual(t, hits.Load(), int32(23), "no replay while backing off")
}

// TestTokenSourcePanicRecoveredForEveryWaiter: a panic in the user's token
// source becomes an error for each concurrent caller instead of killing
// the process.
func TestTokenSourcePanicRecoveredForEveryWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var fetches atomic.Int32
		auth, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
			fetches.Add(1)
			<-release
			panic("boom")
		}, 0, nil)
		require.NoError(t, err)
		errs := make([]error, 10)
		wait := concurrently(len(errs), func(i int) { _, _, errs[i] = auth.Credential(context.Background()) })
		synctest.Wait() // every caller waits on the one fetch before it panics
		close(release)
		wait()
		assert.Equal(t, int32(1), fetches.Load(), "one fetch for all concurrent callers")
		for _, err := range errs {
			assert.ErrorContains(t, err, "token source panicked: boom")
		}
	})
}

// TestSecretTypesFormatRedacted: %v, %+v, %#v and %s of credentials never
// print the secret.
func TestSecretTypesFormatRedacted(t *testing.T) {
	const secret = "tok-secret-value"
	ra, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) { return Token{Value: secret}, nil }, 0, nil)
	require.NoError(t, err)
	_, _, _ = ra.Credential(context.Background())
	for _, v := range []any{Token{Value: secret}, &Token{Value: secret}, Bearer(secret), Header("X", secret), ra} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%T %s", v, verb)
			assert.Contains(t, out, "redacted", "%T %s", v, verb)
		}
	}
}

// quietTLS is a TLS test server that does not log handshake failures.
func quietTLS(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}

// concurrently runs f(0) ... f(n-1) each in its own goroutine and returns
// a function that waits for all of them.
func concurrently(n int, f func(i int)) (wait func()) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	return wg.Wait
}

// TestRequestIDHeaders: configured request id headers are matched in any
// spelling, in order, skipping empty values, and the caller's slice is
// left as given.
func TestRequestIDHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Empty-Id"] = []string{""}
		w.Header().Set("X-Trace-Id", "trace_1")
		w.Header().Set("X-Request-Id", "req_1")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{nil, "req_1"},
		{[]string{"x-trace-id", "X-Request-Id"}, "trace_1"},
		{[]string{"x-empty-id", "X-REQUEST-ID"}, "req_1"},
		{[]string{"x-missing"}, ""},
	} {
		given := append([]string(nil), tc.ids...)
		c, err := New(Config{Provider: "p", BaseURL: srv.URL, RequestIDHeaders: given})
		require.NoError(t, err)
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x", NoAuth: true}, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.want, resp.RequestID, "%q", tc.ids)
		assert.Equal(t, tc.ids, given, "caller's slice unchanged")
	}
}
