package siro_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func kitchenRemodel() *siro.SyncEngagement {
	start := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	return &siro.SyncEngagement{
		ExternalID: "appt-1001", Subject: "Kitchen remodel consultation",
		StartTime: siro.At(start), EndTime: siro.At(start.Add(90 * time.Minute)),
		EngagementType:  &siro.EngagementType{Name: "In-home consultation", ActivityType: siro.ActivityAppointment},
		Account:         &siro.SyncAccount{ExternalID: "acct-501", Name: "Smith Residence"},
		EngagementUsers: []siro.SyncUser{{ExternalID: "rep-7", Email: "rep@example.com"}},
		Opportunity:     &siro.SyncEngagementOpportunity{ExternalID: "opp-2001", Name: "Smith kitchen", Disposition: siro.DispositionOpen},
	}
}

type readyLog struct {
	mu    sync.Mutex
	ready []*siro.ReadyRecording
}

func (l *readyLog) add(r *siro.ReadyRecording) {
	l.mu.Lock()
	l.ready = append(l.ready, r)
	l.mu.Unlock()
}

func (l *readyLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ready)
}

func TestWebhookOrdersAndDuplicates(t *testing.T) {
	P, L := siro.EventRecordingProcessed, siro.EventRecordingLinked
	orders := map[string][]sirotest.Delivery{
		"processed then linked":              {{Type: P}, {Type: L}},
		"linked then processed":              {{Type: L}, {Type: P}},
		"processed twice, then linked":       {{Type: P, Times: 2}, {Type: L}},
		"linked, then processed redelivered": {{Type: L}, {Type: P, Times: 3}},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			fake := newFake(t)
			c, err := fake.Client()
			require.NoError(t, err)
			_, err = c.SyncEngagement(context.Background(), kitchenRemodel())
			require.NoError(t, err)
			rec, err := fake.Record("appt-1001", sirotest.Conversation{Title: "Smith kitchen"})
			require.NoError(t, err)
			var log readyLog
			var raw atomic.Int32
			h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{
				Ready:              func(_ context.Context, r *siro.ReadyRecording) error { log.add(r); return nil },
				RecordingProcessed: func(context.Context, *siro.RecordingEvent) error { raw.Add(1); return nil },
				RecordingLinked:    func(context.Context, *siro.RecordingEvent) error { raw.Add(1); return nil },
			})
			require.NoError(t, err)
			srv := httptest.NewServer(h)
			defer srv.Close()
			codes, err := fake.DeliverWebhooks(context.Background(), srv.URL, rec.RecordingID, order...)
			require.NoError(t, err)
			for _, code := range codes {
				assert.Equal(t, 200, code)
			}
			require.Equal(t, 1, log.count(), "exactly once per recording")
			assert.Equal(t, int32(2), raw.Load(), "each distinct delivery reaches its raw callback once")
			ev := log.ready[0].Event
			assert.Equal(t, rec.RecordingID, ev.RecordingID)
			assert.Equal(t, "appt-1001", ev.CRM.Engagement.ExternalID)
			assert.Equal(t, "opp-2001", ev.CRM.Opportunity.ExternalID)
			assert.NotEmpty(t, ev.Delivery.ID)
		})
	}
}

func signed(t *testing.T, secret string, now time.Time, body map[string]any) *http.Request {
	b, _ := json.Marshal(body)
	s, err := webhook.NewStandardSigner(secret, webhook.WithSignatureClock(webhooktest.NewFakeClock(now)))
	require.NoError(t, err)
	req := httptest.NewRequest("POST", "/webhooks/siro", bytes.NewReader(b))
	require.NoError(t, s.SignHeader(req.Header, b))
	return req
}

func TestWebhookWaitsForBothFlags(t *testing.T) {
	const secret = "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	var log readyLog
	fail := atomic.Bool{}
	h, err := siro.NewHandler([]string{secret}, siro.Callbacks{
		Ready: func(_ context.Context, r *siro.ReadyRecording) error {
			if fail.Load() {
				return errors.New("crm down")
			}
			log.add(r)
			return nil
		},
	}, webhook.WithClock(clk))
	require.NoError(t, err)
	serve := func(req *http.Request) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	ev := func(typ siro.EventType, processed, linked bool) map[string]any {
		return map[string]any{"recordingId": "rec_9", "eventType": typ, "recordingProcessed": processed, "recordingLinked": linked,
			"crm": map[string]any{"integrationConnectionId": "ic", "engagement": map[string]string{"id": "e", "externalId": "appt"}}}
	}
	// Processed first, not yet linked: nothing fires.
	assert.Equal(t, 200, serve(signed(t, secret, clk.Now(), ev(siro.EventRecordingProcessed, true, false))))
	assert.Equal(t, 0, log.count())
	// Linked arrives, the callback fails: 500, not marked done.
	fail.Store(true)
	linked := ev(siro.EventRecordingLinked, true, true)
	req := signed(t, secret, clk.Now(), linked)
	id := req.Header.Get("Svix-Id")
	assert.Equal(t, 500, serve(req))
	// Svix redelivers the same message: it goes through now.
	fail.Store(false)
	clk.Advance(30 * time.Second)
	b, _ := json.Marshal(linked)
	s, _ := webhook.NewStandardSigner(secret, webhook.WithSignatureClock(clk))
	redo := httptest.NewRequest("POST", "/", bytes.NewReader(b))
	redo.Header.Set("Svix-Id", id)
	require.NoError(t, s.SignHeader(redo.Header, b))
	assert.Equal(t, 200, serve(redo))
	assert.Equal(t, 1, log.count())
	// A later true/true event for the same recording does not fire again.
	assert.Equal(t, 200, serve(signed(t, secret, clk.Now(), ev(siro.EventRecordingProcessed, true, true))))
	assert.Equal(t, 1, log.count())

	// Bad signature and stale timestamp: refused, nothing fires.
	bad := signed(t, "whsec_"+"b3RoZXItc2VjcmV0", clk.Now(), ev(siro.EventRecordingLinked, true, true))
	assert.Equal(t, 401, serve(bad))
	stale := signed(t, secret, clk.Now().Add(-6*time.Minute), map[string]any{"recordingId": "rec_10", "eventType": siro.EventRecordingLinked, "recordingProcessed": true, "recordingLinked": true})
	assert.Equal(t, 401, serve(stale))
	future := signed(t, secret, clk.Now().Add(6*time.Minute), map[string]any{"recordingId": "rec_10", "eventType": siro.EventRecordingLinked, "recordingProcessed": true, "recordingLinked": true})
	assert.Equal(t, 401, serve(future))
	assert.Equal(t, 1, log.count())
	// Unknown event types are acknowledged.
	assert.Equal(t, 200, serve(signed(t, secret, clk.Now(), map[string]any{"eventType": "integrations.somethingNew"})))
}

// TestEndToEnd: the client syncs through the fake, the fake records and
// delivers the webhooks out of order with a duplicate, and the handler
// fires once with the external ids, the summary and the extractions,
// fetched with a user token the client minted itself.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	clientID, secret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithOAuthApp(clientID, secret, "siro-user-1", siro.ScopeRead))
	require.NoError(t, err)
	e, err := c.SyncEngagement(ctx, kitchenRemodel())
	require.NoError(t, err)
	rec, err := fake.Record("appt-1001", sirotest.Conversation{
		Title:   "Smith kitchen",
		Summary: []siro.SummarySection{{ID: "s1", Name: "Overview", Content: "Homeowner wants quartz counters; budget 25k."}},
		Extractions: []siro.ExtractedField{{Name: "Budget", Value: json.RawMessage(`25000`),
			Mappings: []siro.CRMMapping{{CRMModelName: "Opportunity", CRMFieldName: "Amount"}}}},
	})
	require.NoError(t, err)
	got, err := c.GetEngagement(ctx, e.ID)
	require.NoError(t, err)
	assert.Empty(t, got.RecordingID, "not linked before Siro links it")

	var log readyLog
	h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{
		Ready:        func(_ context.Context, r *siro.ReadyRecording) error { log.add(r); return nil },
		FetchDetails: c,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err = fake.DeliverWebhooks(ctx, srv.URL, rec.RecordingID,
		sirotest.Delivery{Type: siro.EventRecordingLinked}, sirotest.Delivery{Type: siro.EventRecordingProcessed, Times: 2})
	require.NoError(t, err)
	got, err = c.GetEngagement(ctx, e.ID)
	require.NoError(t, err)
	assert.Equal(t, rec.RecordingID, got.RecordingID, "recordingLinked linked the engagement")
	require.Equal(t, 1, log.count())
	r := log.ready[0]
	assert.Equal(t, "appt-1001", r.Event.CRM.Engagement.ExternalID)
	assert.Equal(t, "opp-2001", r.Event.CRM.Opportunity.ExternalID)
	require.NotNil(t, r.Details)
	assert.Contains(t, r.Details.Summary, "quartz counters")
	f := r.Details.EntityExtractions[0].Extraction[0]
	assert.Equal(t, "25000", f.String())
	assert.Equal(t, "Amount", f.Mappings[0].CRMFieldName)
}

func TestDeepLinks(t *testing.T) {
	u, err := siro.RecordLink{Action: siro.RecordStart, Title: "Smith & Sons kitchen remodel", ConversationType: "7d1c7c9e-uuid",
		RedirectURL: "https://crm.example.com/appointments/1001?tab=notes&x=1"}.URL()
	require.NoError(t, err)
	assert.Equal(t, "https://app.siro.ai/record?action=start&title=Smith%20%26%20Sons%20kitchen%20remodel&conversationType=7d1c7c9e-uuid&redirectUrl=https%3A%2F%2Fcrm.example.com%2Fappointments%2F1001%3Ftab%3Dnotes%26x%3D1", u)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	q := parsed.Query()
	assert.Equal(t, "Smith & Sons kitchen remodel", q.Get("title"), "round-trips")
	assert.Equal(t, "https://crm.example.com/appointments/1001?tab=notes&x=1", q.Get("redirectUrl"))

	u, err = siro.RecordLink{Action: siro.RecordStop}.URL()
	require.NoError(t, err)
	assert.Equal(t, "https://app.siro.ai/record?action=stop", u)
	for _, bad := range []siro.RecordLink{{}, {Action: "pause"}, {Action: siro.RecordStop, Title: "x"}, {Action: siro.RecordStart, RedirectURL: "not a url"}} {
		_, err := bad.URL()
		assert.ErrorIs(t, err, siro.ErrInvalidRequest)
	}
	legacy, err := siro.LegacyRecordURL("appt-1001", "Jane Smith & Co", "opp/2001")
	require.NoError(t, err)
	assert.Equal(t, "siro://record?appointmentId=appt-1001&title=Jane%20Smith%20%26%20Co&opportunityId=opp%2F2001", legacy)
	lp, _ := url.Parse(legacy)
	assert.Equal(t, "Jane Smith & Co", lp.Query().Get("title"))
	_, err = siro.LegacyRecordURL("", "", "")
	assert.ErrorIs(t, err, siro.ErrInvalidRequest)
}

func TestPollRecordings(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	fake := newFake(t, sirotest.WithClock(clk))
	c, err := fake.Client(siro.WithClock(clk))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 3; i++ {
		e := kitchenRemodel()
		e.ExternalID = "appt-" + strconv.Itoa(i)
		_, err := c.SyncEngagement(ctx, e)
		require.NoError(t, err)
	}
	_, err = fake.Record("appt-0", sirotest.Conversation{Linked: true})
	require.NoError(t, err)
	got := make(chan siro.Recording, 10)
	go func() {
		for r, err := range c.PollRecordings(ctx, clk.Now().Add(-time.Hour), &siro.PollOptions{Interval: time.Minute, PageSize: 1, Show: siro.RecordingShow{ShowCRMLinks: true}}) {
			if err != nil {
				continue
			}
			got <- r
		}
		close(got)
	}()
	first := <-got
	assert.Equal(t, "appt-0", first.CRM.Engagement.ExternalID)
	// The poller waits on the clock; two more recordings appear later.
	require.True(t, clk.BlockUntilWaiters(1, 5*time.Second))
	clk.Advance(10 * time.Second)
	_, err = fake.Record("appt-1", sirotest.Conversation{Linked: true})
	require.NoError(t, err)
	_, err = fake.Record("appt-2", sirotest.Conversation{Linked: true})
	require.NoError(t, err)
	clk.Advance(time.Minute)
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case r := <-got:
			assert.NotEqual(t, first.ID, r.ID, "a recording is not yielded twice")
			seen[r.CRM.Engagement.ExternalID] = true
		case <-time.After(5 * time.Second):
			t.Fatal("poller did not pick up the new recordings")
		}
	}
	assert.True(t, seen["appt-1"] && seen["appt-2"])
	cancel()
	for range got {
	}
}

func TestWaitForRecording(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	fake := newFake(t, sirotest.WithClock(clk))
	c, _ := fake.Client(siro.WithClock(clk))
	e, err := c.SyncEngagement(context.Background(), kitchenRemodel())
	require.NoError(t, err)
	done := make(chan *siro.Engagement)
	go func() {
		got, err := c.WaitForRecording(context.Background(), e.ID, &siro.PollOptions{Interval: time.Second})
		assert.NoError(t, err)
		done <- got
	}()
	require.True(t, clk.BlockUntilWaiters(1, 5*time.Second))
	rec, _ := fake.Record("appt-1001", sirotest.Conversation{Linked: true})
	clk.Advance(time.Second)
	got := <-done
	assert.Equal(t, rec.RecordingID, got.RecordingID)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		clk.BlockUntilWaiters(1, 5*time.Second)
		cancel()
	}()
	e2 := kitchenRemodel()
	e2.ExternalID = "appt-never"
	eng, _ := c.SyncEngagement(context.Background(), e2)
	_, err = c.WaitForRecording(ctx, eng.ID, &siro.PollOptions{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.WaitForRecording(context.Background(), "missing", &siro.PollOptions{})
	assert.ErrorIs(t, err, siro.ErrNotFound)
}

// TestReadyOpportunityOnlyAndPanic: a recording linked only to an
// opportunity reaches Ready without a nil dereference through the nil-safe
// accessors the README uses, and a panic in Ready answers 500, releases
// the "ready" key and lets the redelivery fire it (never 409 until a lease
// expires).
func TestReadyOpportunityOnlyAndPanic(t *testing.T) {
	const secret = "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	var targets []string
	panicNext := atomic.Bool{}
	panicNext.Store(true)
	h, err := siro.NewHandler([]string{secret}, siro.Callbacks{
		Ready: func(_ context.Context, r *siro.ReadyRecording) error {
			if panicNext.Swap(false) {
				panic("bug in the CRM write-back")
			}
			target, ok := r.Event.EngagementExternalID()
			if !ok {
				if target, ok = r.Event.OpportunityExternalID(); !ok {
					return nil
				}
			}
			targets = append(targets, target)
			return nil
		},
	}, webhook.WithClock(clk))
	require.NoError(t, err)
	body := map[string]any{"recordingId": "rec_o", "eventType": siro.EventRecordingLinked, "recordingProcessed": true, "recordingLinked": true,
		"crm": map[string]any{"integrationConnectionId": "ic", "opportunity": map[string]string{"id": "o", "externalId": "opp-101"}}}
	serve := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signed(t, secret, clk.Now(), body))
		return rec.Code
	}
	assert.Equal(t, 500, serve(), "a panic is answered 500")
	assert.Equal(t, 200, serve(), "the redelivery fires Ready again at once")
	assert.Equal(t, []string{"opp-101"}, targets)
	assert.Equal(t, 200, serve())
	assert.Equal(t, []string{"opp-101"}, targets, "once per recording")

	var none *siro.RecordingEvent
	_, ok := none.EngagementExternalID()
	assert.False(t, ok)
	_, ok = (&siro.RecordingEvent{}).OpportunityExternalID()
	assert.False(t, ok)
}

// TestNewHandlerOptionErrorsMatchOneSentinel: whichever option fails
// (package webhook's or Siro's own Callbacks.FetchDetails), the error
// matches the one sentinel, under both of its names, and names what failed.
func TestNewHandlerOptionErrorsMatchOneSentinel(t *testing.T) {
	orgOnly, err := siro.NewClient(siro.WithOrgToken("org-token"))
	require.NoError(t, err)
	secret := "whsec_" + "c2lyby1zZW50aW5lbA=="
	for name, build := range map[string]func() error{
		"Callbacks.FetchDetails": func() error {
			_, err := siro.NewHandler([]string{secret}, siro.Callbacks{FetchDetails: orgOnly})
			return err
		},
		"WithTimeout": func() error {
			_, err := siro.NewHandler([]string{secret}, siro.Callbacks{}, webhook.WithTimeout(0))
			return err
		},
		"WithTolerance": func() error {
			_, err := siro.NewHandler([]string{secret}, siro.Callbacks{}, webhook.WithTolerance(-time.Second))
			return err
		},
	} {
		err := build()
		require.ErrorIs(t, err, webhook.ErrInvalidOption, name)
		require.ErrorIs(t, err, siro.ErrInvalidOption, name)
		assert.Contains(t, err.Error(), name)
		assert.Contains(t, err.Error(), "siro: NewHandler: ")
	}
}
