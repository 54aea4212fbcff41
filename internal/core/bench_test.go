package core

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type benchThing struct {
	ExternalID string `json:"externalId"`
	Title      string `json:"title"`
	Count      int    `json:"count"`
	Active     bool   `json:"active"`
}

// benchLimiter is a token bucket in GCRA form like the vendors' default
// in-process limiter (a mutex, a clock read, one reservation per attempt),
// with a budget the benchmark never exhausts: its cost, never a wait.
type benchLimiter struct {
	mu  sync.Mutex
	tat time.Time
}

func (l *benchLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	if l.tat.Before(now) {
		l.tat = now
	}
	l.tat = l.tat.Add(time.Nanosecond)
	l.mu.Unlock()
	return ctx.Err()
}

// BenchmarkDo compares calls through the core (default retry policy,
// per-attempt timeout, a limiter) with the same calls written by hand with
// net/http and encoding/json, on the same loopback server: a GET decoding
// a small JSON reply, and a PUT with a small JSON body. cpu-ns/op is this
// process's CPU time (client and server) per call, less disturbed by other
// load on a shared machine than ns/op.
func BenchmarkDo(b *testing.B) {
	reply := []byte(`{"externalId":"appt-1","title":"Kitchen remodel","count":3,"active":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			var in benchThing
			_ = json.NewDecoder(r.Body).Decode(&in)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	}))
	defer srv.Close()
	in := benchThing{ExternalID: "appt-1", Title: "Kitchen remodel", Count: 3, Active: true}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()
	ctx := context.Background()
	newCore := func(b *testing.B, obs ClientObserver) *Client {
		c, err := New(Config{Provider: "bench", BaseURL: srv.URL, Auth: Bearer("tok"), HTTPClient: hc, Limiter: &benchLimiter{}, Observer: obs})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	get := &Request{Operation: "Things.Get", Method: http.MethodGet, Route: "/v1/things/{id}", PathParams: []string{"appt-1"}}

	stdlibGet := func(b *testing.B, lim *benchLimiter) func() {
		return func() {
			if err := lim.Wait(ctx); err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/things/appt-1", nil)
			if err != nil {
				b.Fatal(err)
			}
			if out := stdlibCall(b, hc, req); out.Count != 3 {
				b.Fatal(out)
			}
		}
	}
	coreGet := func(b *testing.B, c *Client) func() {
		return func() {
			var out benchThing
			if _, err := c.Do(ctx, get, &out); err != nil || out.Count != 3 {
				b.Fatal(err)
			}
		}
	}
	b.Run("GET/stdlib", func(b *testing.B) { benchCalls(b, stdlibGet(b, &benchLimiter{})) })
	b.Run("GET/core", func(b *testing.B) { benchCalls(b, coreGet(b, newCore(b, nil))) })
	b.Run("GET/pair", func(b *testing.B) { benchPair(b, stdlibGet(b, &benchLimiter{}), coreGet(b, newCore(b, nil))) })
	b.Run("GET/core-observer", func(b *testing.B) {
		c := newCore(b, nopObserver{})
		benchCalls(b, func() {
			var out benchThing
			if _, err := c.Do(ctx, get, &out); err != nil || out.Count != 3 {
				b.Fatal(err)
			}
		})
	})
	b.Run("PUT/stdlib", func(b *testing.B) {
		benchCalls(b, func() {
			payload, err := json.Marshal(&in)
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/v1/things/appt-1", bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			stdlibCall(b, hc, req)
		})
	})
	// Built once, like get: the stdlib side allocates no request
	// description either.
	put := &Request{Operation: "Things.Put", Method: http.MethodPut, Route: "/v1/things/{id}", PathParams: []string{"appt-1"}, Body: &in}
	b.Run("PUT/core", func(b *testing.B) {
		c := newCore(b, nil)
		benchCalls(b, func() {
			var out benchThing
			if _, err := c.Do(ctx, put, &out); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// stdlibCall is the hand-written side of a call once its request is
// built: the headers every call sends, the round trip and the decoded
// 200 reply.
func stdlibCall(b *testing.B, hc *http.Client, req *http.Request) benchThing {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var out benchThing
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatal(err, resp.StatusCode)
	}
	return out
}

func benchCalls(b *testing.B, f func()) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// benchPair runs the hand-written call and ours alternately, 64 of each
// in turn, b.N of each in all, and reports the process CPU time and the
// wall time per call of each and their ratios (ours/stdlib): load from
// other processes on a shared machine falls on both alike, so the ratios
// are steadier than ones taken from two separate sub-benchmarks. Its
// ns/op and allocs/op are for one call of each together.
func benchPair(b *testing.B, stdlib, ours func()) {
	const chunk = 64
	b.ReportAllocs()
	b.ResetTimer()
	var cpu, wall [2]time.Duration
	for done := 0; done < b.N; {
		k := min(chunk, b.N-done)
		for i, f := range [2]func(){stdlib, ours} {
			cpu0, wall0 := processCPU(), time.Now()
			for j := 0; j < k; j++ {
				f()
			}
			cpu[i] += processCPU() - cpu0
			wall[i] += time.Since(wall0)
		}
		done += k
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(cpu[0]), "stdlib-cpu-ns/op")
	b.ReportMetric(per(cpu[1]), "ours-cpu-ns/op")
	b.ReportMetric(per(wall[0]), "stdlib-wall-ns/op")
	b.ReportMetric(per(wall[1]), "ours-wall-ns/op")
	if cpu[0] > 0 && wall[0] > 0 {
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "ours/stdlib-cpu")
		b.ReportMetric(float64(wall[1])/float64(wall[0]), "ours/stdlib-wall")
	}
}

// nopObserver is the cheapest observer: it measures the hooks' own cost.
type nopObserver struct{}

func (nopObserver) StartCall(ctx context.Context, _, _ string) (context.Context, func(int, error)) {
	return ctx, func(int, error) {}
}

func (nopObserver) StartAttempt(ctx context.Context, _ string, _ int) (context.Context, func(int, error, time.Duration)) {
	return ctx, func(int, error, time.Duration) {}
}
func (nopObserver) LimiterWait(context.Context, time.Duration)      {}
func (nopObserver) TokenMint(context.Context, time.Duration, error) {}
