package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type harness struct {
	fake    *clock.Fake
	calls   atomic.Int32
	handler http.Handler
	errs    []error
	mu      sync.Mutex
}

func newHarness(t *testing.T, v func(*clock.Fake) Verifier, opts ...Option) *harness {
	h := &harness{fake: clock.NewFake(kaTime())}
	opts = append(opts, WithErrorHook(func(_ *http.Request, err error) {
		h.mu.Lock()
		h.errs = append(h.errs, err)
		h.mu.Unlock()
	}))
	mw, err := Middleware(v(h.fake), opts...)
	require.NoError(t, err)
	h.handler = mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		d, ok := DeliveryFrom(r.Context())
		if !ok {
			http.Error(w, "no delivery", 500)
			return
		}
		_, _ = fmt.Fprintf(w, "%s|%s", d.ID, b)
	}))
	return h
}

func (h *harness) do(method string, header http.Header, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/hook", bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewareBadDeliveries(t *testing.T) {
	standard := func(f *clock.Fake) Verifier {
		v, err := NewStandard([]string{kaSecret}, WithSignatureClock(f), WithSignatureTolerance(5*time.Minute))
		if err != nil {
			panic(err)
		}
		return v
	}
	hexV := func(prefix string) func(*clock.Fake) Verifier {
		return func(*clock.Fake) Verifier {
			v, err := NewHMAC("X-Sig", prefix, "topsecret")
			if err != nil {
				panic(err)
			}
			return v
		}
	}
	body := []byte(kaBody)
	hs, _ := NewHMACSigner("X-Sig", "", "topsecret")
	goodHex := hs.Sign(body)
	ps, _ := NewHMACSigner("X-Sig", "sha256=", "topsecret")
	goodPrefixed := ps.Sign(body)
	wrongSecret, _ := NewHMACSigner("X-Sig", "", "othersecret")
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	flipped := append([]byte(nil), body...)
	flipped[3] ^= 1
	type tc struct {
		name   string
		v      func(*clock.Fake) Verifier
		method string
		header http.Header
		body   []byte
		clock  time.Duration // offset from the signing time
		status int
		err    error
	}
	cases := []tc{
		{"standard: GET", standard, "GET", standardHeader(kaID, kaTS, kaSig), body, 0, 405, ErrMethodNotAllowed},
		{"standard: PUT", standard, "PUT", standardHeader(kaID, kaTS, kaSig), body, 0, 405, ErrMethodNotAllowed},
		{"standard: empty body", standard, "POST", standardHeader(kaID, kaTS, kaSig), nil, 0, 400, ErrEmptyBody},
		{"standard: no headers", standard, "POST", nil, body, 0, 401, ErrMissingHeader},
		{"standard: missing id", standard, "POST", hdr("svix-timestamp", kaTS, "svix-signature", kaSig), body, 0, 401, ErrMissingHeader},
		{"standard: missing timestamp", standard, "POST", hdr("svix-id", kaID, "svix-signature", kaSig), body, 0, 401, ErrMissingHeader},
		{"standard: missing signature", standard, "POST", hdr("svix-id", kaID, "svix-timestamp", kaTS), body, 0, 401, ErrMissingHeader},
		{"standard: empty signature", standard, "POST", standardHeader(kaID, kaTS, ""), body, 0, 401, ErrMissingHeader},
		{"standard: duplicated id", standard, "POST", func() http.Header { h := standardHeader(kaID, kaTS, kaSig); h.Add("svix-id", "msg_x"); return h }(), body, 0, 400, ErrMalformed},
		{"standard: duplicated timestamp", standard, "POST", func() http.Header { h := standardHeader(kaID, kaTS, kaSig); h.Add("svix-timestamp", kaTS); return h }(), body, 0, 400, ErrMalformed},
		{"standard: non-numeric timestamp", standard, "POST", standardHeader(kaID, "yesterday", kaSig), body, 0, 400, ErrMalformed},
		{"standard: wrong version only", standard, "POST", standardHeader(kaID, kaTS, "v2,"+kaSig[3:]), body, 0, 401, ErrNoMatchingSignature},
		{"standard: no version prefix", standard, "POST", standardHeader(kaID, kaTS, kaSig[3:]), body, 0, 400, ErrMalformed},
		{"standard: truncated signature", standard, "POST", standardHeader(kaID, kaTS, kaSig[:20]), body, 0, 400, ErrMalformed},
		{"standard: not base64", standard, "POST", standardHeader(kaID, kaTS, "v1,"+strings.Repeat("!", 44)), body, 0, 400, ErrMalformed},
		{"standard: body changed by one byte", standard, "POST", standardHeader(kaID, kaTS, kaSig), flipped, 0, 401, ErrNoMatchingSignature},
		{"standard: id changed", standard, "POST", standardHeader(kaID+"x", kaTS, kaSig), body, 0, 401, ErrNoMatchingSignature},
		{"standard: wrong secret", func(f *clock.Fake) Verifier {
			v, _ := NewStandard([]string{"whsec_" + base64.StdEncoding.EncodeToString([]byte("another"))}, WithSignatureClock(f))
			return v
		}, "POST", standardHeader(kaID, kaTS, kaSig), body, 0, 401, ErrNoMatchingSignature},
		{"standard: stale by 1s past tolerance", standard, "POST", standardHeader(kaID, kaTS, kaSig), body, 5*time.Minute + time.Second, 401, ErrTimestampTooOld},
		{"standard: future by 1s past tolerance", standard, "POST", standardHeader(kaID, kaTS, kaSig), body, -5*time.Minute - time.Second, 401, ErrTimestampTooNew},
		{"standard: oversize", standard, "POST", standardHeader(kaID, kaTS, kaSig), bytes.Repeat([]byte("a"), 2048), 0, 413, ErrPayloadTooLarge},
		{"hex: missing header", hexV(""), "POST", nil, body, 0, 401, ErrMissingHeader},
		{"hex: empty header", hexV(""), "POST", hdr("X-Sig", ""), body, 0, 401, ErrMissingHeader},
		{"hex: duplicated header", hexV(""), "POST", hdr("X-Sig", goodHex, "X-Sig", goodHex), body, 0, 400, ErrMalformed},
		{"hex: not hex", hexV(""), "POST", hdr("X-Sig", strings.Repeat("zz", 32)), body, 0, 400, ErrMalformed},
		{"hex: truncated", hexV(""), "POST", hdr("X-Sig", goodHex[:63]), body, 0, 400, ErrMalformed},
		{"hex: wrong secret", hexV(""), "POST", hdr("X-Sig", wrongSecret.Sign(body)), body, 0, 401, ErrNoMatchingSignature},
		{"hex: body changed", hexV(""), "POST", hdr("X-Sig", goodHex), flipped, 0, 401, ErrNoMatchingSignature},
		{"hex: prefixed value for plain scheme", hexV(""), "POST", hdr("X-Sig", goodPrefixed), body, 0, 400, ErrMalformed},
		{"prefixed: missing prefix", hexV("sha256="), "POST", hdr("X-Sig", goodHex), body, 0, 400, ErrMalformed},
		{"prefixed: wrong prefix", hexV("sha256="), "POST", hdr("X-Sig", "sha1="+goodHex), body, 0, 400, ErrMalformed},
		{"prefixed: GET", hexV("sha256="), "GET", hdr("X-Sig", goodPrefixed), body, 0, 405, ErrMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.v, WithMaxBodyBytes(1024))
			h.fake.Set(kaTime().Add(c.clock))
			rec := h.do(c.method, c.header, c.body)
			assert.Equal(t, c.status, rec.Code)
			assert.Zero(t, h.calls.Load(), "the wrapped handler is never called")
			require.Len(t, h.errs, 1)
			assert.ErrorIs(t, h.errs[0], c.err)
			assert.Equal(t, http.StatusText(c.status)+"\n", rec.Body.String(), "generic body")
		})
	}
	assert.GreaterOrEqual(t, len(cases), 25)

	// And the good ones pass, with the body restored and the delivery in context.
	h := newHarness(t, standard)
	rec := h.do("POST", standardHeader(kaID, kaTS, kaSig), body)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, kaID+"|"+kaBody, rec.Body.String())
	h2 := newHarness(t, hexV("sha256="))
	rec = h2.do("POST", hdr("X-Sig", goodPrefixed), body)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "|"+kaBody, rec.Body.String())
}

func TestMiddlewareOptionsValidate(t *testing.T) {
	_, err := Middleware(nil)
	assert.ErrorIs(t, err, ErrInvalidOption)
	v, _ := NewHMAC("X", "", "s")
	_, err = Middleware(v, WithMaxBodyBytes(0))
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = Middleware(v, WithDedupe(nil))
	assert.ErrorIs(t, err, ErrInvalidOption)
}

func TestMiddlewareDedupe(t *testing.T) {
	fake := clock.NewFake(kaTime())
	dd, err := NewMemoryDedupe(time.Hour, WithDedupeClock(fake))
	require.NoError(t, err)
	v, _ := NewHMAC("X-Sig", "", "s")
	s, _ := NewHMACSigner("X-Sig", "", "s")
	mw, err := Middleware(v, WithDedupe(dd), WithKey(HeaderKey("X-Event-Id")))
	require.NoError(t, err)
	var calls atomic.Int32
	fail := atomic.Bool{}
	release := make(chan struct{})
	block := atomic.Bool{}
	srv := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if block.Load() {
			<-release
		}
		if fail.Load() {
			http.Error(w, "boom", 500)
			return
		}
		w.WriteHeader(204)
	}))
	send := func(id string) int {
		body := []byte(`{"id":"` + id + `"}`)
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-Event-Id", id)
		_ = s.SignHeader(req.Header, body)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	fail.Store(true)
	assert.Equal(t, 500, send("e1"))
	fail.Store(false)
	assert.Equal(t, 204, send("e1"), "the retry after a failure goes through")
	assert.Equal(t, 200, send("e1"), "a duplicate is acknowledged")
	assert.Equal(t, int32(2), calls.Load())

	// Concurrent duplicate while the first is in flight: 409, not processed.
	block.Store(true)
	done := make(chan int)
	go func() { done <- send("e2") }()
	require.Eventually(t, func() bool { return calls.Load() == 3 }, time.Second, time.Millisecond)
	assert.Equal(t, 409, send("e2"))
	close(release)
	assert.Equal(t, 204, <-done)
	assert.Equal(t, int32(3), calls.Load())

	// Missing key header: 401 (missing header), not processed.
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	_ = s.SignHeader(req.Header, []byte("{}"))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, 401, rec.Code)
}

func TestMiddlewarePanicReleases(t *testing.T) {
	dd, _ := NewMemoryDedupe(time.Hour)
	v, _ := NewHMAC("X-Sig", "", "s")
	s, _ := NewHMACSigner("X-Sig", "", "s")
	mw, _ := Middleware(v, WithDedupe(dd), WithKey(HeaderKey("X-Id")))
	srv := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	req.Header.Set("X-Id", "p1")
	_ = s.SignHeader(req.Header, []byte("{}"))
	rec := httptest.NewRecorder()
	assert.NotPanics(t, func() { srv.ServeHTTP(rec, req) })
	assert.Equal(t, 500, rec.Code, "a panic is answered 500, never a dropped connection")
	_, err := dd.Reserve(context.Background(), "webhook/default/d:p1")
	assert.NoError(t, err, "released after panic")
}

type brokenStore struct{}

func (brokenStore) Reserve(context.Context, string) (Reservation, error) {
	return Reservation{}, errors.New("db down")
}
func (brokenStore) Extend(_ context.Context, r Reservation) (Reservation, error) { return r, nil }
func (brokenStore) Commit(context.Context, Reservation) error                    { return nil }
func (brokenStore) Release(context.Context, Reservation) error                   { return nil }

func TestMiddlewareStoreDownFailsClosed(t *testing.T) {
	v, _ := NewHMAC("X-Sig", "", "s")
	s, _ := NewHMACSigner("X-Sig", "", "s")
	mw, _ := Middleware(v, WithDedupe(brokenStore{}), WithKey(HeaderKey("X-Id")))
	called := false
	srv := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	req.Header.Set("X-Id", "p1")
	_ = s.SignHeader(req.Header, []byte("{}"))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, 503, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.False(t, called)
}

func TestMemoryDedupe(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(kaTime())
	d, err := NewMemoryDedupe(time.Hour, WithDedupeClock(fake), WithLease(time.Minute), WithMaxEntries(3))
	require.NoError(t, err)
	r1, err := d.Reserve(ctx, "a")
	require.NoError(t, err)
	_, err = d.Reserve(ctx, "a")
	assert.ErrorIs(t, err, ErrInProgress)
	fake.Advance(61 * time.Second)
	r2, err := d.Reserve(ctx, "a")
	require.NoError(t, err, "an abandoned reservation expires after the lease")
	assert.ErrorIs(t, d.Release(ctx, r1), ErrNotOwner, "the lapsed owner cannot release the new reservation")
	assert.ErrorIs(t, d.Commit(ctx, r1), ErrNotOwner, "nor commit it")
	_, err = d.Extend(ctx, r1)
	assert.ErrorIs(t, err, ErrNotOwner, "nor extend it")
	r2, err = d.Extend(ctx, r2)
	require.NoError(t, err)
	require.NoError(t, d.Commit(ctx, r2))
	_, err = d.Reserve(ctx, "a")
	assert.ErrorIs(t, err, ErrDuplicate)
	assert.ErrorIs(t, d.Release(ctx, r2), ErrNotOwner, "release does not undo a commit")
	_, err = d.Reserve(ctx, "a")
	assert.ErrorIs(t, err, ErrDuplicate)
	fake.Advance(time.Hour + time.Second)
	_, err = d.Reserve(ctx, "a")
	require.NoError(t, err, "committed records expire after the TTL")
	for _, k := range []string{"b", "c", "d", "e"} {
		r, err := d.Reserve(ctx, k)
		require.NoError(t, err)
		require.NoError(t, d.Commit(ctx, r))
	}
	assert.Equal(t, int64(1), d.Evicted(), "dropping a committed key before its TTL is counted")
	_, err = NewMemoryDedupe(0)
	assert.ErrorIs(t, err, ErrInvalidOption)

	// Exactly one of many concurrent reservations wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.Reserve(ctx, "race"); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestMemoryDedupeNeverEvictsLiveReservations(t *testing.T) {
	ctx := context.Background()
	d, err := NewMemoryDedupe(time.Hour, WithMaxEntries(2))
	require.NoError(t, err)
	var live []Reservation
	for i := range 10 {
		r, err := d.Reserve(ctx, fmt.Sprint("live", i))
		require.NoError(t, err)
		live = append(live, r)
	}
	for i := range 5 {
		r, err := d.Reserve(ctx, fmt.Sprint("done", i))
		require.NoError(t, err)
		require.NoError(t, d.Commit(ctx, r))
	}
	for i, r := range live {
		_, err := d.Reserve(ctx, r.Key)
		assert.ErrorIs(t, err, ErrInProgress, "live reservation %d survives the cap", i)
	}
	assert.Equal(t, int64(3), d.Evicted())
}

// TestMiddlewareAbortHandlerReleases: a wrapped handler that aborts with
// http.ErrAbortHandler drops the connection as net/http intends, and the
// delivery is released so the retry is processed.
func TestMiddlewareAbortHandlerReleases(t *testing.T) {
	dd, _ := NewMemoryDedupe(time.Hour)
	v, _ := NewHMAC("X-Sig", "", "s")
	s, _ := NewHMACSigner("X-Sig", "", "s")
	mw, _ := Middleware(v, WithDedupe(dd), WithKey(HeaderKey("X-Id")))
	var calls atomic.Int32
	srv := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if calls.Add(1) == 1 {
			panic(http.ErrAbortHandler)
		}
	}))
	req := func() *http.Request {
		r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		r.Header.Set("X-Id", "a1")
		_ = s.SignHeader(r.Header, []byte("{}"))
		return r
	}
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { srv.ServeHTTP(httptest.NewRecorder(), req()) })
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req())
	assert.Equal(t, 200, rec.Code, "released: the retry is processed")
	assert.Equal(t, int32(2), calls.Load())
}

// TestGoexitInCallbackReleases: a callback that ends its goroutine with
// runtime.Goexit (t.FailNow in a user's test) leaves no reservation or
// timer behind: the retry is processed.
func TestGoexitInCallbackReleases(t *testing.T) {
	dd, _ := NewMemoryDedupe(time.Hour)
	v, _ := NewHMAC("X-Sig", "", "s")
	s, _ := NewHMACSigner("X-Sig", "", "s")
	var calls atomic.Int32
	r, err := NewReceiver(Spec[any]{
		Provider: "test", Verifier: v,
		Parse: func(ev *Event) (any, error) { ev.ID = "g1"; return nil, nil },
		Handle: func(context.Context, *Event, any, Once) error {
			if calls.Add(1) == 1 {
				runtime.Goexit()
			}
			return nil
		},
	}, WithDedupe(dd))
	require.NoError(t, err)
	req := func() *http.Request {
		rq := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		_ = s.SignHeader(rq.Header, []byte("{}"))
		return rq
	}
	done := make(chan struct{})
	go func() { defer close(done); r.ServeHTTP(httptest.NewRecorder(), req()) }()
	<-done
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req())
	assert.Equal(t, 200, rec.Code, "released: the retry is processed")
	assert.Equal(t, int32(2), calls.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.NoError(t, r.Shutdown(ctx), "nothing left in flight")
}
