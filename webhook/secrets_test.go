package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rotatingSource is a SecretSource whose lists the test changes.
type rotatingSource struct {
	mu      sync.RWMutex
	secrets map[string][]string
	calls   atomic.Int64
}

func (s *rotatingSource) Secrets(_ context.Context, tenant string) ([]string, error) {
	s.calls.Add(1)
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.secrets[tenant]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTenant, tenant)
	}
	return v, nil
}

func (s *rotatingSource) set(tenant string, secrets ...string) {
	s.mu.Lock()
	s.secrets[tenant] = secrets
	s.mu.Unlock()
}

// tally counts callback runs per tenant and id.
type tally struct {
	mu     sync.Mutex
	runs   map[string]int
	forged atomic.Int64
}

func (c *tally) handle(_ context.Context, ev *Event, _ Once) error {
	if bytes.Contains(ev.Raw, []byte("forged")) {
		c.forged.Add(1)
	}
	c.mu.Lock()
	c.runs[ev.Tenant+"|"+ev.ID]++
	c.mu.Unlock()
	return nil
}

// TestSecretSourceRotationUnderLoad is issue 26's load test: 3 tenants
// with 2 rotating secrets each behind one http.ServeMux pattern over
// loopback, 50 concurrent senders, 10,500 deliveries of which 20 % are
// duplicates and 5 % forgeries (tenant A's secret sent to tenant B's URL,
// an unknown secret, and the removed old secret after the rotation). No
// forgery reaches a callback, no genuine delivery is refused while the
// secrets rotate, and every event is processed exactly once per tenant
// (the same ids are sent to every tenant).
func TestSecretSourceRotationUnderLoad(t *testing.T) {
	tenants := []string{"acme", "globex", "initech"}
	src := &rotatingSource{secrets: map[string][]string{}}
	old := map[string]string{}
	next := map[string]string{}
	for _, tn := range tenants {
		old[tn], next[tn] = "old-secret-"+tn, "new-secret-"+tn
		src.set(tn, old[tn])
	}
	c := &tally{runs: map[string]int{}}
	r, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(src, TenantFromPath("tenant")))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{tenant}", r)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var genuineRefused, forgedAccepted, other atomic.Int64
	send := func(j loadJob) {
		for {
			s, _ := NewHMACSigner("X-Sig", "", j.secret)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hooks/"+j.tenant, bytes.NewReader(j.body))
			req.Header.Set("X-Id", j.id)
			req.Header.Set("X-Type", "call.ended")
			_ = s.SignHeader(req.Header, j.body)
			resp, err := client.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusConflict && !j.forged:
				continue // a concurrent duplicate in progress: the vendor retries
			case j.forged && resp.StatusCode != http.StatusUnauthorized:
				forgedAccepted.Add(1)
			case !j.forged && resp.StatusCode != http.StatusOK:
				genuineRefused.Add(1)
			}
			return
		}
	}
	rng := rand.New(rand.NewPCG(26, 1))
	total := 0
	// Phase 1: old secrets. Phase 2: the source holds old and new, senders
	// use either. Phase 3: old removed, senders use new; the old secret is
	// now a forgery.
	for phase := 1; phase <= 3; phase++ {
		switch phase {
		case 2:
			for _, tn := range tenants {
				src.set(tn, next[tn], old[tn])
			}
		case 3:
			for _, tn := range tenants {
				src.set(tn, next[tn])
			}
		}
		jobs := rotationJobs(rng, phase, tenants, old, next)
		total += len(jobs)
		ch := make(chan loadJob)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				for j := range ch {
					send(j)
				}
			})
		}
		for _, j := range jobs {
			ch <- j
		}
		close(ch)
		wg.Wait()
	}
	assert.GreaterOrEqual(t, total, 10_000)
	assert.Zero(t, c.forged.Load(), "a forgery reached a callback")
	assert.Zero(t, forgedAccepted.Load(), "a forgery was not answered 401")
	assert.Zero(t, genuineRefused.Load(), "a genuine delivery was refused during the rotation")
	assert.Zero(t, other.Load())
	c.mu.Lock()
	defer c.mu.Unlock()
	perTenant := map[string]int{}
	for k, n := range c.runs {
		if n != 1 {
			t.Errorf("%s processed %d times", k, n)
		}
		perTenant[strings.SplitN(k, "|", 2)[0]]++
	}
	for _, tn := range tenants {
		assert.Greater(t, perTenant[tn], 1000, tn)
	}
	st := r.Stats()
	assert.Greater(t, st.Duplicates, int64(1500))
	assert.Greater(t, st.Refused, int64(400))
}

// loadJob is one delivery of the load test.
type loadJob struct {
	tenant, id, secret string
	body               []byte
	forged             bool
}

// rotationJobs makes one phase's deliveries: 5 % forgeries (another
// tenant's secret, a secret never issued, and in phase 3 the removed old
// secret), 20 % redeliveries of earlier ones, the rest genuine, signed
// with the secrets the phase allows.
func rotationJobs(rng *rand.Rand, phase int, tenants []string, old, next map[string]string) []loadJob {
	var jobs, sent []loadJob
	for len(jobs) < 3500 {
		tn := tenants[rng.IntN(len(tenants))]
		secret := old[tn]
		if phase == 3 || (phase == 2 && rng.IntN(2) == 0) {
			secret = next[tn]
		}
		p := rng.IntN(100)
		switch {
		case p < 5:
			other := tenants[(rng.IntN(2)+1+indexOf(tenants, tn))%len(tenants)]
			forger := []string{old[other], next[other], "never-issued"}
			if phase == 3 {
				forger = append(forger, old[tn]) // removed: stops verifying at once
			}
			jobs = append(jobs, loadJob{tenant: tn, id: fmt.Sprintf("forged-%d-%d", phase, len(jobs)), secret: forger[rng.IntN(len(forger))],
				body: []byte(`{"forged":true}`), forged: true})
		case p < 25 && len(sent) > 0:
			jobs = append(jobs, sent[rng.IntN(len(sent))])
		default:
			id := fmt.Sprintf("evt_%d", rng.IntN(4000)) // the same ids reach every tenant
			j := loadJob{tenant: tn, id: id, secret: secret, body: []byte(`{"id":"` + id + `"}`)}
			jobs = append(jobs, j)
			sent = append(sent, j)
		}
	}
	return jobs
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestSecretSourceOutage: the source fails for 2 s under load (synctest's
// fake time, no sleeps in real time). While it fails every delivery is
// answered 503 with Retry-After, never 401 or 404; the senders retry and
// afterwards every event is processed exactly once.
func TestSecretSourceOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		failFrom, failUntil := start.Add(200*time.Millisecond), start.Add(2200*time.Millisecond)
		src := SecretsFunc(func(context.Context, string) ([]string, error) {
			if now := time.Now(); !now.Before(failFrom) && now.Before(failUntil) {
				return nil, errors.New("secrets database: connection refused")
			}
			return []string{engineSecret}, nil
		})
		c := &tally{runs: map[string]int{}}
		r, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(src, FixedTenant("acme")))
		require.NoError(t, err)
		var during, bad atomic.Int64
		var wg sync.WaitGroup
		for s := range 20 {
			wg.Go(func() {
				for i := range 20 {
					id := fmt.Sprintf("evt_%d_%d", s, i)
					for {
						rec := httptest.NewRecorder()
						r.ServeHTTP(rec, signed(t, "/", "", id, []byte(`{"n":1}`)))
						if rec.Code == http.StatusOK {
							break
						}
						if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
							bad.Add(1)
						}
						during.Add(1)
						time.Sleep(100 * time.Millisecond) // the vendor's retry, on fake time
					}
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		assert.Zero(t, bad.Load(), "only 503 with Retry-After while the source fails")
		assert.Greater(t, during.Load(), int64(100), "the outage was under load")
		assert.Len(t, c.runs, 400)
		for k, n := range c.runs {
			assert.Equal(t, 1, n, k)
		}
		assert.Equal(t, r.Stats().Unavailable, during.Load())
	})
}

// TestSecretSourceAnswers: unknown tenant 404, source failure 503, the
// same id from two tenants processed once for each, the tenant on the
// event, the Observation and the dedupe key, and a source error or secret
// never in an error text.
func TestSecretSourceAnswers(t *testing.T) {
	src := &rotatingSource{secrets: map[string][]string{"a": {"secret-a"}, "b": {"secret-b"}}}
	c := &tally{runs: map[string]int{}}
	o := &recorder{}
	var errs []string
	r, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(src, TenantFromPath("tenant")), WithObserver(o),
		WithErrorHook(func(_ *http.Request, err error) { errs = append(errs, fmt.Sprintf("%v %+v", err, err)) }))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /symbo/{tenant}", r)
	mux.Handle("POST /bare", r)
	do := func(path, secret, id string) int {
		return serve(mux, signed(t, path, secret, id, []byte(`{}`)))
	}
	assert.Equal(t, 200, do("/symbo/a", "secret-a", "x1"))
	assert.Equal(t, 200, do("/symbo/b", "secret-b", "x1"), "the same id for another tenant is another event")
	assert.Equal(t, 200, do("/symbo/a", "secret-a", "x1"), "a duplicate")
	assert.Equal(t, 401, do("/symbo/b", "secret-a", "x2"), "tenant A's secret at tenant B's URL")
	assert.Equal(t, 404, do("/symbo/zzz", "secret-a", "x3"))
	assert.Equal(t, 404, do("/bare", "secret-a", "x4"), "no tenant in the path")
	assert.Equal(t, map[string]int{"a|x1": 1, "b|x1": 1}, c.runs)
	src.set("a") // no secrets at all
	assert.Equal(t, 404, do("/symbo/a", "secret-a", "x5"))

	failing := SecretsFunc(func(context.Context, string) ([]string, error) { return nil, errors.New("db down") })
	r2, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(failing, FixedTenant("a")))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	r2.ServeHTTP(rec, signed(t, "/", "secret-a", "y1", []byte(`{}`)))
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))

	for _, e := range errs {
		assert.NotContains(t, e, "secret-a")
		assert.NotContains(t, e, "secret-b")
	}
	o.mu.Lock()
	tenants := map[string]bool{}
	for _, ob := range o.obs {
		tenants[ob.Tenant] = true
	}
	o.mu.Unlock()
	assert.True(t, tenants["a"] && tenants["b"], "Observation.Tenant is filled")

	spec := engineSpec(t, c.handle)
	spec.NewVerifier = nil
	_, err = NewReceiver(spec, WithSecretSource(src, FixedTenant("a")))
	assert.ErrorIs(t, err, ErrInvalidOption)
	spec.Verifier = nil
	_, err = NewReceiver(engineSpec(t, c.handle), WithSecretSource(nil, nil))
	assert.ErrorIs(t, err, ErrInvalidOption)
}

// TestConfigVerifier: endpoints that are not receivers (Symbo's lookup,
// Engrami's tools) resolve a tenant's verifier through Config the same
// way, and see a rotation at once.
func TestConfigVerifier(t *testing.T) {
	src := &rotatingSource{secrets: map[string][]string{"a": {"one"}}}
	build := func(s []string) (Verifier, error) { return NewHMAC("X-Sig", "", s...) }
	cfg, err := NewConfig(WithSecretSource(src, TenantFromPath("tenant")))
	require.NoError(t, err)
	assert.True(t, cfg.HasSecretSource())
	var got []int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /lookup/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		v, tenant, err := cfg.Verifier(r.Context(), r, nil, build)
		if err == nil {
			body, _ := io.ReadAll(r.Body)
			_, err = v.Verify(r.Header, body)
			assert.Equal(t, "a", tenant)
		}
		got = append(got, StatusCode(err))
	})
	call := func(path, secret string) { serve(mux, signed(t, path, secret, "l", []byte(`{}`))) }
	call("/lookup/a", "one")
	call("/lookup/a", "two")
	src.set("a", "two")
	call("/lookup/a", "two")
	call("/lookup/a", "one")
	call("/lookup/b", "one")
	assert.Equal(t, []int{200, 401, 200, 401, 404}, got)

	fixed, _ := NewHMAC("X-Sig", "", "f")
	plain, err := NewConfig()
	require.NoError(t, err)
	v, tenant, err := plain.Verifier(context.Background(), httptest.NewRequest("POST", "/", nil), fixed, build)
	assert.NoError(t, err)
	assert.Equal(t, "", tenant)
	assert.Same(t, fixed, v)
}

// TestHungSecretSourceIsBounded: a source that never answers is bounded by
// WithStoreTimeout like every store call: 503 with Retry-After at the
// timeout, not a request held forever.
func TestHungSecretSourceIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hung := SecretsFunc(func(ctx context.Context, _ string) ([]string, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		c := &tally{runs: map[string]int{}}
		r, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(hung, FixedTenant("a")), WithStoreTimeout(3*time.Second))
		require.NoError(t, err)
		start := time.Now()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, signed(t, "/", "secret-a", "h1", []byte(`{}`)))
		assert.Equal(t, 503, rec.Code)
		assert.Equal(t, "5", rec.Header().Get("Retry-After"))
		assert.Equal(t, 3*time.Second, time.Since(start), "answered at the store timeout")
		assert.Empty(t, c.runs)
	})
}
