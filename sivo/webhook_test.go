package sivo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "sivo-test-secret"

// docSample is the call.ended example from SIVO's webhook page.
const docSample = `{
  "id": "evt_01H8XYZ...",
  "type": "call.ended",
  "createdAt": "2026-05-20T10:23:45.123Z",
  "tenantId": "uuid-tenant",
  "data": {
    "callId": "uuid-call",
    "direction": "inbound",
    "from": "+34611222333",
    "to": "+34911234567",
    "duration_sec": 184,
    "agentId": "uuid-agent",
    "queueId": "uuid-queue",
    "mosScore": 4.3,
    "hangupCause": "NORMAL_CLEARING"
  }
}`

func TestDocSampleDecodes(t *testing.T) {
	ev, err := sivo.ParseEvent([]byte(docSample))
	require.NoError(t, err)
	assert.Equal(t, "evt_01H8XYZ...", ev.ID)
	assert.Equal(t, sivo.EventCallEnded, ev.Type)
	assert.Equal(t, time.Date(2026, 5, 20, 10, 23, 45, 123e6, time.UTC), ev.CreatedAt.Time)
	assert.Equal(t, "uuid-tenant", ev.TenantID)
	assert.Equal(t, docSample, string(ev.Raw))
	c, err := ev.CallEnded()
	require.NoError(t, err)
	assert.Equal(t, sivo.CallEnded{CallID: "uuid-call", Direction: "inbound", From: "+34611222333", To: "+34911234567",
		DurationSec: webhook.Int{Value: 184, Valid: true}, AgentID: "uuid-agent", QueueID: "uuid-queue", MOSScore: webhook.Float{Value: 4.3, Valid: true}, HangupCause: "NORMAL_CLEARING"}, *c)
	var own struct {
		HangupCause string `json:"hangupCause"`
	}
	require.NoError(t, ev.DecodeData(&own))
	assert.Equal(t, "NORMAL_CLEARING", own.HangupCause)
}

func rawReq(body string, hdr map[string]string) *http.Request {
	req := httptest.NewRequest("POST", "/webhooks/sivo", strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req
}

func sign(body string) string {
	s, _ := webhook.NewHMACSigner(sivo.HeaderSignature, sivo.SignaturePrefix, secret)
	return s.Sign([]byte(body))
}

func TestBadDeliveries(t *testing.T) {
	var calls atomic.Int32
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
		CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error { calls.Add(1); return nil },
	})
	require.NoError(t, err)
	big := `{"id":"evt_big","type":"call.ended","data":{"x":"` + strings.Repeat("a", sivo.MaxBodyBytes) + `"}}`
	noType := `{"id":"evt_x","data":{}}`
	cases := []struct {
		name   string
		method string
		body   string
		hdr    map[string]string
		status int
	}{
		{"wrong signature", "POST", docSample, map[string]string{sivo.HeaderSignature: sign(docSample + " "), sivo.HeaderEventID: "evt_01H8XYZ..."}, 401},
		{"no signature", "POST", docSample, map[string]string{sivo.HeaderEventID: "evt_01H8XYZ..."}, 401},
		{"bare hex without sha256=", "POST", docSample, map[string]string{sivo.HeaderSignature: strings.TrimPrefix(sign(docSample), "sha256="), sivo.HeaderEventID: "evt_01H8XYZ..."}, 400},
		{"type header mismatch", "POST", docSample, map[string]string{sivo.HeaderSignature: sign(docSample), sivo.HeaderEventID: "evt_01H8XYZ...", sivo.HeaderEventType: "call.created"}, 400},
		{"id header mismatch", "POST", docSample, map[string]string{sivo.HeaderSignature: sign(docSample), sivo.HeaderEventID: "evt_other"}, 400},
		{"oversize", "POST", big, map[string]string{sivo.HeaderSignature: sign(big), sivo.HeaderEventID: "evt_big"}, 413},
		{"not json", "POST", "nope", map[string]string{sivo.HeaderSignature: sign("nope"), sivo.HeaderEventID: "evt_n"}, 400},
		{"no type", "POST", noType, map[string]string{sivo.HeaderSignature: sign(noType), sivo.HeaderEventID: "evt_x"}, 400},
		{"GET", "GET", "", nil, 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := rawReq(c.body, c.hdr)
			req.Method = c.method
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, c.status, rec.Code)
		})
	}
	assert.Zero(t, calls.Load())

	// After all those refusals the genuine delivery still goes through once.
	good := map[string]string{sivo.HeaderSignature: sign(docSample), sivo.HeaderEventID: "evt_01H8XYZ...", sivo.HeaderEventType: "call.ended"}
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rawReq(docSample, good))
		assert.Equal(t, 200, rec.Code)
	}
	assert.Equal(t, int32(1), calls.Load())
}

func TestEveryEventTypeRoutes(t *testing.T) {
	var mu sync.Mutex
	got := map[sivo.EventType]int{}
	rec := func(ctx context.Context, ev *sivo.Event) error {
		mu.Lock()
		got[ev.Type]++
		mu.Unlock()
		return nil
	}
	cb := sivo.Callbacks{
		CallCreated: rec, CallAnswered: rec, CallTransferred: rec, CallRecorded: rec,
		CallEnded:         func(ctx context.Context, ev *sivo.Event, _ *sivo.CallEnded) error { return rec(ctx, ev) },
		TranscriptSegment: rec, TranscriptComplete: rec, QueueEntered: rec, QueueAbandoned: rec,
		AgentStatusChanged: rec, AgentPaused: rec, IVRCompleted: rec, AIAgentCompleted: rec,
		WebhookTest: rec,
		Unknown: func(ctx context.Context, ev *webhook.Event) error {
			mu.Lock()
			got[sivo.EventType(ev.Type)]++
			mu.Unlock()
			if !strings.Contains(string(ev.Raw), `"queue.overflowed"`) {
				return errors.New("unknown event without its raw bytes")
			}
			return nil
		},
	}
	h, err := sivo.NewHandler([]string{secret}, cb)
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	types := []sivo.EventType{sivo.EventCallCreated, sivo.EventCallAnswered, sivo.EventCallTransferred, sivo.EventCallEnded,
		sivo.EventCallRecorded, sivo.EventTranscriptSegment, sivo.EventTranscriptComplete, sivo.EventQueueEntered,
		sivo.EventQueueAbandoned, sivo.EventAgentStatusChanged, sivo.EventAgentPaused, sivo.EventIVRCompleted,
		sivo.EventAIAgentCompleted, sivo.EventWebhookTest, "queue.overflowed"}
	for i, typ := range types {
		ev, err := sivotest.NewEvent(fmt.Sprintf("evt_%d", i), typ, time.Now(), map[string]any{"callId": "c1"})
		require.NoError(t, err)
		assert.Equal(t, 200, s.Serve(h, ev.Raw), typ)
	}
	for _, typ := range types {
		assert.Equal(t, 1, got[typ], typ)
	}

	// With no callbacks at all, webhook.test (and everything) answers 200.
	h2, _ := sivo.NewHandler([]string{secret}, sivo.Callbacks{})
	ev, _ := sivotest.NewEvent("evt_test", sivo.EventWebhookTest, time.Now(), map[string]any{})
	assert.Equal(t, 200, s.Serve(h2, ev.Raw))
}

func TestHandlerErrorThenRetry(t *testing.T) {
	var calls atomic.Int32
	h, _ := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error {
		if calls.Add(1) == 1 {
			return errors.New("crm down")
		}
		return nil
	}})
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.NewEvent("evt_r", sivo.EventCallCreated, time.Now(), map[string]any{})
	res := s.Replay(h, webhooktest.NewFakeClock(time.Now()), ev.Raw)
	assert.Equal(t, []int{500, 200}, res.Statuses)
	assert.True(t, res.Delivered)
	assert.Equal(t, 200, s.Serve(h, ev.Raw), "a later duplicate is acknowledged")
	assert.Equal(t, int32(2), calls.Load())

	// A callback that always fails is dead-lettered after seven attempts
	// (the first and SIVO's six retries).
	h2, _ := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error { return errors.New("no") }})
	res = s.Replay(h2, webhooktest.NewFakeClock(time.Now()), ev.Raw)
	assert.Equal(t, []int{500, 500, 500, 500, 500, 500, 500}, res.Statuses)
	assert.True(t, res.DeadLettered)
}

func TestConcurrentDuplicateProcessedOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	h, _ := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error {
		calls.Add(1)
		<-release
		return nil
	}})
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.NewEvent("evt_c", sivo.EventCallCreated, time.Now(), map[string]any{})
	first := make(chan int)
	go func() { first <- s.Serve(h, ev.Raw) }()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, time.Second, time.Millisecond)
	assert.Equal(t, 409, s.Serve(h, ev.Raw), "a concurrent redelivery is told to retry, not processed")
	close(release)
	assert.Equal(t, 200, <-first)
	assert.Equal(t, int32(1), calls.Load())
}

func TestHandlerDeadline(t *testing.T) {
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(ctx context.Context, _ *sivo.Event) error {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > 50*time.Millisecond {
			return errors.New("no deadline")
		}
		<-ctx.Done()
		return ctx.Err()
	}}, webhook.WithTimeout(50*time.Millisecond))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.NewEvent("evt_d", sivo.EventCallCreated, time.Now(), map[string]any{})
	start := time.Now()
	assert.Equal(t, 504, s.Serve(h, ev.Raw), "answered at the deadline")
	assert.Less(t, time.Since(start), 2*time.Second)
	_, err = sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithTimeout(10*time.Second))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption, "must stay under SIVO's 10 s timeout")
	_, err = sivo.NewHandler([]string{""}, sivo.Callbacks{})
	assert.ErrorIs(t, err, webhook.ErrInvalidSecret)
}

// TestThousandEventsExactlyOnce: 1,000 events, a fifth of them redelivered
// concurrently, callbacks failing at random, all through SIVO's retry
// schedule on a fake clock: every event is processed exactly once.
func TestThousandEventsExactlyOnce(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	processed := map[string]int{}
	// Each event's callback fails a random 0 to 4 times before it succeeds
	// (fewer than SIVO's seven attempts, so none is dead-lettered).
	r := rand.New(rand.NewPCG(3, 4))
	failuresLeft := map[string]int{}
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
		CallEnded: func(_ context.Context, ev *sivo.Event, _ *sivo.CallEnded) error {
			mu.Lock()
			defer mu.Unlock()
			if failuresLeft[ev.ID] > 0 {
				failuresLeft[ev.ID]--
				return errors.New("random failure")
			}
			processed[ev.ID]++
			return nil
		},
	}, webhook.WithClock(clk))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	var events []*sivo.Event
	for i := 0; i < 1000; i++ {
		ev, err := sivotest.NewEvent(fmt.Sprintf("evt_%04d", i), sivo.EventCallEnded, clk.Now(), sivo.CallEnded{CallID: fmt.Sprint(i)})
		require.NoError(t, err)
		events = append(events, ev)
		failuresLeft[ev.ID] = r.IntN(5)
		if i%5 == 0 {
			events = append(events, ev) // a concurrent redelivery
		}
	}
	bodies := make([][]byte, len(events))
	for i, ev := range events {
		bodies[i] = ev.Raw
	}
	results := s.ReplayAll(h, clk, bodies)
	for i, res := range results {
		assert.True(t, res.Delivered, "event %s: %v", events[i].ID, res.Statuses)
	}
	require.Len(t, processed, 1000)
	for id, n := range processed {
		require.Equal(t, 1, n, id)
	}
}

func TestMemoryInboxDrainsOnShutdown(t *testing.T) {
	var calls atomic.Int32
	gate := make(chan struct{})
	var failed, entered atomic.Int32
	inbox, err := webhook.NewMemoryInbox(3, 1, webhook.WithInboxErrorHook(func(*webhook.Event, error) { failed.Add(1) }))
	require.NoError(t, err)
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(_ context.Context, ev *sivo.Event) error {
		entered.Add(1)
		<-gate
		calls.Add(1)
		if ev.ID == "evt_fail" {
			return errors.New("x")
		}
		return nil
	}}, webhook.WithInbox(inbox))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	codes := []int{}
	var retryAfter []string
	for i, id := range []string{"evt_1", "evt_2", "evt_3", "evt_fail", "evt_5", "evt_6"} {
		ev, _ := sivotest.NewEvent(id, sivo.EventCallCreated, time.Now(), map[string]any{})
		req, _ := s.Request(context.Background(), "http://x/", ev.Raw)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		codes = append(codes, rec.Code)
		if rec.Code == 503 {
			retryAfter = append(retryAfter, rec.Header().Get("Retry-After"))
		}
		if i == 0 { // wait until the worker holds the first event
			require.Eventually(t, func() bool { return entered.Load() == 1 }, 5*time.Second, time.Millisecond)
		}
	}
	// One event is held by the worker, three fill the queue, the rest are refused.
	assert.Equal(t, 4, countOf(codes, 200), codes)
	assert.Equal(t, 2, countOf(codes, 503), codes)
	assert.Equal(t, []string{"5", "5"}, retryAfter, "a full queue says when to retry")
	close(gate)
	require.NoError(t, h.Shutdown(context.Background()))
	require.NoError(t, inbox.Shutdown(context.Background()))
	assert.Equal(t, int32(4), calls.Load(), "every queued event was processed before Shutdown returned")
	assert.Equal(t, int32(1), failed.Load())
	ev, _ := sivotest.NewEvent("evt_late", sivo.EventCallCreated, time.Now(), map[string]any{})
	assert.Equal(t, 503, s.Serve(h, ev.Raw), "after shutdown SIVO is told to retry")
}

// TestMemoryInboxShutdownReportsUnfinished: past Shutdown's deadline every
// acknowledged event that did not finish is reported, none silently lost,
// and a panicking error hook does not kill the process.
func TestMemoryInboxShutdownReportsUnfinished(t *testing.T) {
	var reported sync.Map
	inbox, err := webhook.NewMemoryInbox(200, 1, webhook.WithInboxErrorHook(func(ev *webhook.Event, _ error) {
		reported.Store(ev.ID, true)
		panic("hook bug")
	}))
	require.NoError(t, err)
	block := make(chan struct{})
	defer close(block)
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(ctx context.Context, ev *sivo.Event) error {
		<-block // ignores its context
		return nil
	}}, webhook.WithInbox(inbox))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	for i := range 100 {
		ev, _ := sivotest.NewEvent(fmt.Sprintf("evt_%d", i), sivo.EventCallCreated, time.Now(), map[string]any{})
		require.Equal(t, 200, s.Serve(h, ev.Raw))
	}
	require.NoError(t, h.Shutdown(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = inbox.Shutdown(ctx)
	var se *webhook.ShutdownError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Unfinished, 100, "all 100 acknowledged events are handed back")
	n := 0
	reported.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 100, n, "and each reached the error hook")
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

func TestSecretNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	var errs []string
	h, _ := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error { return errors.New("x") }},
		webhook.WithLogger(slogTo(&logs)), webhook.WithErrorHook(func(_ *http.Request, err error) { errs = append(errs, err.Error()) }))
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.NewEvent("evt_s", sivo.EventCallCreated, time.Now(), map[string]any{})
	s.Serve(h, ev.Raw)
	req := rawReq(docSample, map[string]string{sivo.HeaderSignature: "sha256=" + strings.Repeat("0", 64)})
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), secret)
	for _, e := range errs {
		assert.NotContains(t, e, secret)
	}
}

func TestDuplicateHoursLater(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	var calls atomic.Int32
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error { calls.Add(1); return nil }},
		webhook.WithClock(clk))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.NewEvent("evt_h", sivo.EventCallCreated, clk.Now(), map[string]any{})
	assert.Equal(t, 200, s.Serve(h, ev.Raw))
	clk.Advance(7 * time.Hour) // past SIVO's whole retry span, even the 7 h of its product page
	assert.Equal(t, 200, s.Serve(h, ev.Raw))
	assert.Equal(t, int32(1), calls.Load(), "processed once even when redelivered hours later")
}

// TestLenientCreatedAtAndNumbers: a createdAt without a zone or fraction
// and numbers sent as strings are accepted (a strict parse would answer 400
// on every retry and dead-letter a real event), and an unparseable
// createdAt keeps its raw text.
func TestLenientCreatedAtAndNumbers(t *testing.T) {
	var got []*sivo.CallEnded
	var created []webhook.Time
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallEnded: func(_ context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		got = append(got, c)
		created = append(created, ev.CreatedAt)
		return nil
	}})
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	for i, ts := range []string{"2026-05-20 10:23:45", "2026-05-20T10:23:45", "2026-05-20 10:23:45.5", "yesterday"} {
		body := fmt.Sprintf(`{"id":"evt_l%d","type":"call.ended","createdAt":%q,"tenantId":"t","data":{"callId":"c%d","duration_sec":"184","mosScore":"4.3"}}`, i, ts, i)
		assert.Equal(t, 200, s.Serve(h, []byte(body)), ts)
	}
	require.Len(t, got, 4)
	assert.Equal(t, int64(184), got[0].DurationSec.Value)
	assert.InDelta(t, 4.3, got[0].MOSScore.Value, 1e-9)
	want := time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC)
	assert.True(t, created[0].Valid && created[0].Time.Equal(want))
	assert.True(t, created[1].Valid && created[1].Time.Equal(want))
	assert.True(t, created[2].Valid && created[2].Time.Equal(want.Add(500*time.Millisecond)))
	assert.False(t, created[3].Valid)
	assert.Equal(t, "yesterday", created[3].Raw)
}

// TestReplayWindowOnCreatedAt: SIVO signs no timestamp, so a captured
// delivery verifies forever; WithTolerance refuses one whose createdAt is
// outside the window (401), off by default.
func TestReplayWindowOnCreatedAt(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	var calls atomic.Int32
	cb := sivo.Callbacks{CallCreated: func(context.Context, *sivo.Event) error { calls.Add(1); return nil }}
	strict, err := sivo.NewHandler([]string{secret}, cb, webhook.WithClock(clk), webhook.WithTolerance(8*time.Hour))
	require.NoError(t, err)
	lax, err := sivo.NewHandler([]string{secret}, cb, webhook.WithClock(clk))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	fresh, _ := sivotest.NewEvent("evt_fresh", sivo.EventCallCreated, clk.Now().Add(-time.Minute), map[string]any{})
	old, _ := sivotest.NewEvent("evt_old", sivo.EventCallCreated, clk.Now().Add(-2*24*time.Hour), map[string]any{})
	future, _ := sivotest.NewEvent("evt_future", sivo.EventCallCreated, clk.Now().Add(9*time.Hour), map[string]any{})
	assert.Equal(t, 200, s.Serve(strict, fresh.Raw))
	assert.Equal(t, 401, s.Serve(strict, old.Raw), "a replay captured two days ago, past the dedupe TTL")
	assert.Equal(t, 401, s.Serve(strict, future.Raw))
	assert.Equal(t, 200, s.Serve(lax, old.Raw), "off by default")
	assert.Equal(t, int32(2), calls.Load())
}

// TestMiddlewareHandsTheTypedEvent: your own handler behind sivo.Middleware
// gets the verified body on r.Body and the typed event from EventFrom; a
// 2xx marks it done.
func TestMiddlewareHandsTheTypedEvent(t *testing.T) {
	mw, err := sivo.Middleware([]string{secret})
	require.NoError(t, err)
	var got []string
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, ok := sivo.EventFrom(r.Context())
		if !ok {
			http.Error(w, "no event", 500)
			return
		}
		c, err := ev.CallEnded()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		got = append(got, ev.ID+":"+c.CallID)
		w.WriteHeader(http.StatusNoContent)
	}))
	s, _ := sivotest.NewSender(secret)
	ev, _ := sivotest.CallEnded("evt_mw", time.Now(), sivo.CallEnded{CallID: "c-9"})
	assert.Equal(t, 204, s.Serve(h, ev.Raw))
	assert.Equal(t, 200, s.Serve(h, ev.Raw), "a duplicate is acknowledged without calling the handler")
	assert.Equal(t, []string{"evt_mw:c-9"}, got)
	_, ok := sivo.EventFrom(context.Background())
	assert.False(t, ok)
}

// TestToleranceShorterThanRetryHorizonRefused: SIVO's retries keep the
// event's createdAt, so a WithTolerance shorter than its retry schedule
// would answer its late retries 401 and send them to the dead-letter
// queue. Construction refuses it, naming the option; a tolerance of the
// horizon accepts the last scheduled retry.
func TestToleranceShorterThanRetryHorizonRefused(t *testing.T) {
	// The schedule of SIVO's product page: 5 s, 30 s, 2 min, 10 min, 1 h,
	// 6 h, with up to a 10 s timeout per failed attempt.
	var waits time.Duration
	for _, w := range []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour} {
		waits += w + sivo.DeliveryTimeout
	}
	assert.Equal(t, waits, sivo.RetryHorizon)
	assert.Greater(t, sivo.DefaultDedupeTTL, sivo.RetryHorizon, "ids must be remembered past the last retry")

	for _, tol := range []time.Duration{10 * time.Minute, time.Hour, sivo.RetryHorizon - time.Second} {
		_, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithTolerance(tol))
		require.Error(t, err, "tolerance %v", tol)
		assert.ErrorIs(t, err, webhook.ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithTolerance")
		assert.Contains(t, err.Error(), "retry")
		_, err = sivo.Middleware([]string{secret}, webhook.WithTolerance(tol))
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, "Middleware, tolerance %v", tol)
	}

	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	var calls atomic.Int32
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
		CallCreated: func(context.Context, *sivo.Event) error { calls.Add(1); return nil },
	}, webhook.WithClock(clk), webhook.WithTolerance(sivo.RetryHorizon))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	last, _ := sivotest.NewEvent("evt_last_retry", sivo.EventCallCreated, clk.Now().Add(-sivo.RetryHorizon+time.Second), map[string]any{})
	assert.Equal(t, 200, s.Serve(h, last.Raw), "SIVO's last scheduled retry")
	assert.Equal(t, int32(1), calls.Load())
}

// TestRefusedDeliveryLogsEventID: a delivery refused before verification
// is logged with the X-Sivo-Event-Id it carried, as SIVO advises ("log
// X-Sivo-Event-Id to correlate with SIVO"), not with an empty delivery_id.
func TestRefusedDeliveryLogsEventID(t *testing.T) {
	var logs bytes.Buffer
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithLogger(slogTo(&logs)))
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"bad signature", map[string]string{sivo.HeaderSignature: sign(docSample + " "), sivo.HeaderEventID: "evt_badsig"}},
		{"no signature", map[string]string{sivo.HeaderEventID: "evt_nosig"}},
	} {
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rawReq(docSample, c.hdr))
		assert.Equal(t, 401, rec.Code, c.name)
		assert.Contains(t, logs.String(), "delivery_id="+c.hdr[sivo.HeaderEventID], c.name)
		assert.NotContains(t, logs.String(), `delivery_id=""`, c.name)
	}

	// An oversized header value is cut, never logged whole.
	logs.Reset()
	long := "evt_" + strings.Repeat("x", 4096)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, rawReq(docSample, map[string]string{sivo.HeaderEventID: long}))
	assert.Equal(t, 401, rec.Code)
	assert.Contains(t, logs.String(), "delivery_id=evt_xxx")
	assert.NotContains(t, logs.String(), long)
}

// The fake's retry schedule spans sivo.RetryHorizon: its waits plus one
// delivery timeout per attempt reach it exactly, so a receiver tested
// with Replay meets SIVO's last documented retry.
func TestScheduleSpansRetryHorizon(t *testing.T) {
	var span time.Duration
	for _, wait := range sivotest.Schedule {
		span += wait + sivo.DeliveryTimeout
	}
	assert.Equal(t, sivo.RetryHorizon, span-sivo.DeliveryTimeout)
}
