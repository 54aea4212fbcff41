package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const engineSecret = "engine-test-secret"

// engineSpec is a tiny vendor: HMAC in X-Sig, the delivery id in X-Id, the
// event type in X-Type; handle is its callback.
func engineSpec(t testing.TB, handle func(ctx context.Context, ev *Event, once Once) error) Spec[any] {
	v, err := NewHMAC("X-Sig", "", engineSecret)
	require.NoError(t, err)
	return Spec[any]{Provider: "acme", Verifier: v,
		NewVerifier: func(s []string) (Verifier, error) { return NewHMAC("X-Sig", "", s...) },
		Parse: func(ev *Event) (any, error) {
			ev.ID, ev.Type = ev.Header.Get("X-Id"), ev.Header.Get("X-Type")
			return nil, nil
		},
		Handle: func(ctx context.Context, ev *Event, _ any, once Once) error { return handle(ctx, ev, once) },
	}
}

// signed builds a signed delivery request for id with body, signed with
// secret (engineSecret when "").
func signed(t testing.TB, target, secret, id string, body []byte) *http.Request {
	if secret == "" {
		secret = engineSecret
	}
	s, err := NewHMACSigner("X-Sig", "", secret)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("X-Id", id)
	req.Header.Set("X-Type", "thing.happened")
	require.NoError(t, s.SignHeader(req.Header, body))
	return req
}

// serve runs one delivery through h in process and returns the status.
func serve(h http.Handler, req *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// TestDeadlineAnswers504AndKeepsTheLease runs on synctest's fake time with
// the engine's real timers: a callback ignoring its context is answered
// 504 exactly at the deadline, its key stays reserved (renewed past three
// leases) so retries get 409, and once it returns the retry is a
// duplicate. No injected clock drives the deadline.
func TestDeadlineAnswers504AndKeepsTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dd, err := NewMemoryDedupe(time.Hour, WithLease(3*time.Second))
		require.NoError(t, err)
		release := make(chan struct{})
		var calls atomic.Int32
		var ctxDone atomic.Bool
		r, err := NewReceiver(engineSpec(t, func(ctx context.Context, _ *Event, _ Once) error {
			if calls.Add(1) == 1 {
				<-release // ignores ctx on purpose
				ctxDone.Store(ctx.Err() != nil)
			}
			return nil
		}), WithDedupe(dd), WithTimeout(time.Second))
		require.NoError(t, err)
		body := []byte(`{"n":1}`)
		start := time.Now()
		first := make(chan int, 1)
		go func() { first <- serve(r, signed(t, "/", "", "slow-1", body)) }()
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		assert.Empty(t, first, "answered before the deadline")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		require.Len(t, first, 1, "not answered at the deadline")
		assert.Equal(t, http.StatusGatewayTimeout, <-first)
		assert.Equal(t, time.Second, time.Since(start))

		time.Sleep(10 * time.Second) // three leases: the keeper renews it
		assert.Equal(t, http.StatusConflict, serve(r, signed(t, "/", "", "slow-1", body)))
		close(release)
		synctest.Wait()
		assert.True(t, ctxDone.Load(), "the callback's context is done after its deadline")
		assert.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", "slow-1", body)))
		assert.EqualValues(t, 1, calls.Load())
		st := r.Stats()
		assert.EqualValues(t, 1, st.TimedOut)
		assert.EqualValues(t, 1, st.InProgress)
		assert.EqualValues(t, 1, st.Duplicates)
		assert.EqualValues(t, 0, st.Processed, "each delivery counts once, by its answer")
		assert.Equal(t, st.Received, st.TimedOut+st.InProgress+st.Duplicates)
		require.NoError(t, r.Shutdown(context.Background()))
	})
}

// TestCallbackHonouringItsDeadlineIs504: a callback that returns its
// context's error after the deadline is answered 504 (not 500), its key
// released for the retry.
func TestCallbackHonouringItsDeadlineIs504(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		r, err := NewReceiver(engineSpec(t, func(ctx context.Context, _ *Event, _ Once) error {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}), WithTimeout(time.Second))
		require.NoError(t, err)
		assert.Equal(t, http.StatusGatewayTimeout, serve(r, signed(t, "/", "", "d-1", []byte(`{}`))))
		synctest.Wait()
		assert.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", "d-1", []byte(`{}`))))
		assert.EqualValues(t, 2, calls.Load())
	})
}

// TestOnceKeysAreApartFromDeliveryKeys (issue 22): a delivery whose id is
// "ready:rec_X" used to be committed under the very key Siro's second key
// for rec_X used, so "ready" never fired for rec_X.
func TestOnceKeysAreApartFromDeliveryKeys(t *testing.T) {
	var readyRuns atomic.Int32
	r, err := NewReceiver(engineSpec(t, func(ctx context.Context, ev *Event, once Once) error {
		if ev.ID == "msg_2" {
			return once(ctx, "ready:rec_X", func(context.Context) error { readyRuns.Add(1); return nil })
		}
		return nil
	}))
	require.NoError(t, err)
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "ready:rec_X", []byte(`{"a":1}`))))
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "msg_2", []byte(`{"a":2}`))))
	assert.EqualValues(t, 1, readyRuns.Load(), "the second key must not be taken by a delivery id")
	ev := &Event{Provider: "acme", Receiver: "default", ID: "x"}
	assert.NotEqual(t, ev.DedupeKey(), ev.onceKey("x"))
	ev.Tenant = "t1"
	assert.Equal(t, "acme/default/t:t1/d:x", ev.DedupeKey())
}

// TestRepeatedKeyWithDifferentBodyWarns (issue 22, Symbo): a key that
// repeats with other content is acknowledged as a duplicate and logged at
// warn level; an identical redelivery is not.
func TestRepeatedKeyWithDifferentBodyWarns(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var calls atomic.Int32
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { calls.Add(1); return nil }), WithLogger(logger))
	require.NoError(t, err)
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "evt_1", []byte(`{"v":"first"}`))))
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "evt_1", []byte(`{"v":"first"}`))))
	mu.Lock()
	assert.NotContains(t, logs.String(), "different body")
	mu.Unlock()
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "evt_1", []byte(`{"v":"second"}`))))
	mu.Lock()
	assert.Contains(t, logs.String(), "level=WARN msg=\"webhook: delivery key repeated with a different body")
	assert.NotContains(t, logs.String(), "second", "no body in the log")
	mu.Unlock()
	assert.EqualValues(t, 1, calls.Load())
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// recorder is a recording Observer: it keeps "stage>" at Start and
// "stage<outcome/reason" at the end, and a fake trace carrier.
type recorder struct {
	mu     sync.Mutex
	events []string
	obs    []Observation
	panics bool
}

type traceKey struct{}

func (o *recorder) Start(ctx context.Context, st Stage, ob Observation) (context.Context, func(Result)) {
	o.mu.Lock()
	o.events = append(o.events, string(st)+">")
	o.obs = append(o.obs, ob)
	o.mu.Unlock()
	if o.panics {
		panic("observer bug")
	}
	if ctx.Value(traceKey{}) == nil {
		ctx = context.WithValue(ctx, traceKey{}, "trace-"+ob.DeliveryID)
	}
	return ctx, func(res Result) {
		o.mu.Lock()
		defer o.mu.Unlock()
		e := string(st) + "<" + string(res.Outcome)
		if res.Reason != "" {
			e += "/" + res.Reason
		}
		if res.Status != 0 {
			e += fmt.Sprintf("/%d", res.Status)
		}
		o.events = append(o.events, e)
	}
}

func (o *recorder) Inject(ctx context.Context) map[string]string {
	if v, ok := ctx.Value(traceKey{}).(string); ok {
		return map[string]string{"traceparent": v}
	}
	return nil
}

func (o *recorder) Extract(ctx context.Context, c map[string]string) context.Context {
	o.mu.Lock()
	o.events = append(o.events, "extract:"+c["traceparent"])
	o.mu.Unlock()
	return context.WithValue(ctx, traceKey{}, c["traceparent"])
}

func (o *recorder) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.events
	o.events = nil
	return out
}

func TestObserverStages(t *testing.T) {
	o := &recorder{}
	var fail atomic.Bool
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error {
		if fail.Load() {
			panic("callback bug")
		}
		return nil
	}), WithObserver(o))
	require.NoError(t, err)

	assert.Equal(t, 200, serve(r, signed(t, "/", "", "o-1", []byte(`{}`))))
	assert.Equal(t, []string{"delivery>", "verify>", "verify<ok", "store>", "store<ok", "callback>", "callback<processed",
		"store>", "store<ok", "delivery<processed/200"}, o.take())

	assert.Equal(t, 200, serve(r, signed(t, "/", "", "o-1", []byte(`{}`))))
	assert.Equal(t, []string{"delivery>", "verify>", "verify<ok", "store>", "store<duplicate", "delivery<duplicate/200"}, o.take())

	assert.Equal(t, 401, serve(r, signed(t, "/", "forged", "o-2", []byte(`{}`))))
	assert.Equal(t, []string{"delivery>", "verify>", "verify<refused/signature", "delivery<refused/signature/401"}, o.take())

	fail.Store(true)
	assert.Equal(t, 500, serve(r, signed(t, "/", "", "o-3", []byte(`{}`))))
	assert.Equal(t, []string{"delivery>", "verify>", "verify<ok", "store>", "store<ok", "callback>", "callback<panicked/panic",
		"store>", "store<ok", "delivery<panicked/panic/500"}, o.take())

	o.mu.Lock()
	ops := []string{}
	for _, ob := range o.obs {
		if ob.Op != "" {
			ops = append(ops, ob.Op)
		}
	}
	o.mu.Unlock()
	assert.Equal(t, []string{"reserve", "commit", "reserve", "reserve", "release"}, ops)
}

// TestObserverEnqueueCarriesTheTrace: in enqueue mode the request's trace
// is stored on the event, and the inbox job continues it around the
// callback.
func TestObserverEnqueueCarriesTheTrace(t *testing.T) {
	o := &recorder{}
	in, err := NewMemoryInbox(10, 1, WithInboxObserver(o))
	require.NoError(t, err)
	done := make(chan string, 1)
	r, err := NewReceiver(engineSpec(t, func(ctx context.Context, _ *Event, _ Once) error {
		done <- fmt.Sprint(ctx.Value(traceKey{}))
		return nil
	}), WithObserver(o), WithInbox(in))
	require.NoError(t, err)
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "q-1", []byte(`{}`))))
	assert.Equal(t, "trace-", <-done, "the job's callback runs in the request's trace")
	require.NoError(t, in.Shutdown(context.Background()))
	ev := o.take()
	assert.Contains(t, ev, "enqueue<enqueued")
	assert.Contains(t, ev, "delivery<enqueued/200")
	assert.Contains(t, ev, "extract:trace-")
	assert.Contains(t, ev, "job<processed")

	// Process called by an inbox that does not observe: the receiver
	// continues the trace itself.
	got := make(chan string, 1)
	r2, err := NewReceiver(engineSpec(t, func(ctx context.Context, _ *Event, _ Once) error {
		got <- fmt.Sprint(ctx.Value(traceKey{}))
		return nil
	}), WithObserver(o), WithName("two"))
	require.NoError(t, err)
	ev2 := &Event{Provider: "acme", Receiver: "two", Raw: []byte(`{}`), Header: http.Header{"X-Id": {"p-1"}}, Trace: map[string]string{"traceparent": "00-abc"}}
	require.NoError(t, r2.Process(context.Background(), ev2))
	assert.Equal(t, "00-abc", <-got)
}

// TestObserverPanicNeverChangesTheAnswer: an Observer that panics in Start
// is recovered; deliveries are answered as without it.
func TestObserverPanicNeverChangesTheAnswer(t *testing.T) {
	o := &recorder{panics: true}
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { return nil }), WithObserver(o))
	require.NoError(t, err)
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "p-1", []byte(`{}`))))
	assert.Equal(t, 401, serve(r, signed(t, "/", "bad", "p-2", []byte(`{}`))))
	assert.EqualValues(t, 1, r.Stats().Processed)
}

// TestMiddlewareOutcomes: the wrapped handler's own answers are counted
// through the same settle as the receiver's.
func TestMiddlewareOutcomes(t *testing.T) {
	o := &recorder{}
	v, _ := NewHMAC("X-Sig", "", engineSecret)
	var status atomic.Int32
	status.Store(200)
	mw, err := Middleware(v, WithKey(HeaderKey("X-Id")), WithObserver(o))
	require.NoError(t, err)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	assert.Equal(t, 200, serve(h, signed(t, "/", "", "m-1", []byte(`{}`))))
	status.Store(503)
	assert.Equal(t, 503, serve(h, signed(t, "/", "", "m-2", []byte(`{}`))))
	ev := o.take()
	assert.Contains(t, ev, "delivery<processed/200")
	assert.Contains(t, ev, "delivery<failed/error/503")
	assert.Equal(t, 200, serve(h, signed(t, "/", "", "m-1", []byte(`{}`))), "committed: a duplicate")
}

// TestErrorsNeverCarryTheSecret: a forged delivery's error (hook, log)
// names no secret.
func TestErrorsNeverCarryTheSecret(t *testing.T) {
	var got []error
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { return errors.New("x") }),
		WithErrorHook(func(_ *http.Request, err error) { got = append(got, err) }))
	require.NoError(t, err)
	serve(r, signed(t, "/", "forged", "s-1", []byte(`{}`)))
	serve(r, signed(t, "/", "", "s-2", []byte(`{}`)))
	require.Len(t, got, 2)
	for _, e := range got {
		assert.False(t, strings.Contains(e.Error(), engineSecret) || strings.Contains(fmt.Sprintf("%+v", e), engineSecret))
	}
}

// TestGoexitInWrappedHandlerReleases: a wrapped handler ending its
// goroutine with runtime.Goexit leaves no reservation (or lease renewal)
// behind, and Shutdown does not wait for it.
func TestGoexitInWrappedHandlerReleases(t *testing.T) {
	v, _ := NewHMAC("X-Sig", "", engineSecret)
	r, err := NewReceiver(Spec[any]{Provider: "webhook", Verifier: v,
		Parse:  func(ev *Event) (any, error) { ev.ID = ev.Header.Get("X-Id"); return nil, nil },
		Handle: func(context.Context, *Event, any, Once) error { return nil }})
	require.NoError(t, err)
	var calls atomic.Int32
	h := r.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if calls.Add(1) == 1 {
			runtime.Goexit()
		}
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), signed(t, "/", "", "g-1", []byte(`{}`)))
	}()
	<-done
	assert.Equal(t, 200, serve(h, signed(t, "/", "", "g-1", []byte(`{}`))), "released: the retry is processed")
	assert.EqualValues(t, 2, calls.Load())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.NoError(t, r.Shutdown(ctx))
}

// TestErrorHookSeesOnlyRefusedAndFailed: a duplicate (answered 200) is
// neither refused nor failed, so WithErrorHook does not receive it.
func TestErrorHookSeesOnlyRefusedAndFailed(t *testing.T) {
	var got []error
	r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { return nil }),
		WithErrorHook(func(_ *http.Request, err error) { got = append(got, err) }))
	require.NoError(t, err)
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "d-1", []byte(`{}`))))
	assert.Equal(t, 200, serve(r, signed(t, "/", "", "d-1", []byte(`{}`))), "a duplicate")
	assert.Empty(t, got, "nothing refused or failed")
	assert.Equal(t, 401, serve(r, signed(t, "/", "forged", "d-2", []byte(`{}`))))
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], ErrNoMatchingSignature)
}

// TestCallbackReturningAtItsDeadline: a callback returning nil at the very
// instant of its deadline races the 504. Whichever side holds the result
// (the request, or the callback's goroutine after a 504), the delivery is
// committed exactly once: the retry is a duplicate and the callback ran
// once, for every one of many deliveries reusing the pooled hand-offs.
func TestCallbackReturningAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error {
			calls.Add(1)
			time.Sleep(time.Second)
			return nil
		}), WithTimeout(time.Second))
		require.NoError(t, err)
		const n = 20
		for i := range n {
			id := "edge-" + string(rune('a'+i))
			code := serve(r, signed(t, "/", "", id, []byte(`{}`)))
			assert.Contains(t, []int{http.StatusOK, http.StatusGatewayTimeout}, code)
			synctest.Wait()
			assert.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", id, []byte(`{}`))), "the retry of %s is a duplicate", id)
		}
		assert.EqualValues(t, n, calls.Load())
		st := r.Stats()
		assert.EqualValues(t, n, st.Duplicates)
		assert.EqualValues(t, n, st.Processed+st.TimedOut)
		require.NoError(t, r.Shutdown(context.Background()))
	})
}
