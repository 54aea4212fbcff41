package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/apierr"
	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	var delays []time.Duration
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Clock = a.fake
		cfg.Retry = &RetryPolicy{MaxRetries: 2, BaseDelay: 100 * time.Millisecond, MaxDelay: 30 * time.Second,
			OnRetry: func(ri RetryInfo) { delays = append(delays, ri.Delay) }}
	})
	for i := 0; i < 50; i++ {
		_, err := c.Do(context.Background(), &Request{Method: "GET", Route: "/x", Query: url.Values{"id": {fmt.Sprint(i)}}}, nil)
		require.NoError(t, err)
	}
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
	release := make(chan struct{})
	auth, err := NewRefreshingAuth("X", "", func(context.Context) (Token, error) {
		<-release
		panic("boom")
	}, 0, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _, errs[i] = auth.Credential(context.Background())
		}(i)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	for _, err := range errs {
		assert.ErrorContains(t, err, "token source panicked: boom")
	}
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
