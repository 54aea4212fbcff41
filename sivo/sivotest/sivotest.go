// Package sivotest signs and delivers SIVO events the way SIVO does, and
// replays SIVO's retry schedule against a handler on a fake clock, so you
// can prove a receiver processes every event exactly once without SIVO.
//
//	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallEnded: onCallEnded})
//	if err != nil {
//		t.Fatal(err)
//	}
//	s, err := sivotest.NewSender(secret)
//	if err != nil {
//		t.Fatal(err)
//	}
//	ev, err := sivotest.CallEnded("evt_1", time.Now(), sivo.CallEnded{CallID: "call_1"})
//	if err != nil {
//		t.Fatal(err)
//	}
//	res := s.Replay(h, webhooktest.NewFakeClock(time.Now()), ev.Raw) // SIVO's retry schedule
package sivotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Schedule is when SIVO attempts a delivery, counted from the first
// attempt's failure chain: immediately, then after 5 s, 30 s, 2 min,
// 10 min and 1 h; after the sixth failure the event is dead-lettered.
var Schedule = []time.Duration{0, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}

// Sender signs and delivers events with a secret.
type Sender struct {
	signer *webhook.HMACSigner
	// Client delivers over HTTP (nil: http.DefaultClient).
	Client *http.Client
}

// NewSender returns a Sender for SIVO's HMAC secret.
func NewSender(secret string) (*Sender, error) {
	s, err := webhook.NewHMACSigner(sivo.HeaderSignature, sivo.SignaturePrefix, secret)
	if err != nil {
		return nil, err
	}
	return &Sender{signer: s}, nil
}

// NewEvent builds an event envelope with data marshalled to JSON.
func NewEvent(id string, typ sivo.EventType, createdAt time.Time, data any) (*sivo.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("sivotest: marshalling data: %w", err)
	}
	ev := &sivo.Event{ID: id, Type: typ, CreatedAt: webhook.NewTime(createdAt.UTC()), TenantID: "tenant-test", Data: raw}
	ev.Raw, err = json.Marshal(ev)
	return ev, err
}

// CallEnded builds a call.ended event with the documented fields.
func CallEnded(id string, createdAt time.Time, call sivo.CallEnded) (*sivo.Event, error) {
	return NewEvent(id, sivo.EventCallEnded, createdAt, call)
}

// Sign returns every header SIVO sends with body: the signature,
// X-Sivo-Event-Id and X-Sivo-Event-Type (read from the body when it is an
// event envelope) and Content-Type.
func (s *Sender) Sign(body []byte) http.Header {
	h := http.Header{}
	if ev, err := sivo.ParseEvent(body); err == nil {
		h.Set(sivo.HeaderEventID, ev.ID)
		h.Set(sivo.HeaderEventType, string(ev.Type))
	}
	h.Set("Content-Type", "application/json")
	_ = s.signer.SignHeader(h, body)
	return h
}

// Request builds the signed POST SIVO would send to url.
func (s *Sender) Request(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = s.Sign(body)
	return req, nil
}

// Deliver POSTs body to url over HTTP and returns the status code.
func (s *Sender) Deliver(ctx context.Context, url string, body []byte) (int, error) {
	req, err := s.Request(ctx, url, body)
	if err != nil {
		return 0, err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Serve delivers body to h in process and returns the status code.
func (s *Sender) Serve(h http.Handler, body []byte) int {
	req, err := s.Request(context.Background(), "http://receiver.test/webhooks/sivo", body)
	if err != nil {
		return 0
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Result is the outcome of a replayed schedule.
type Result struct {
	// Statuses are the answers to each attempt, in order.
	Statuses []int
	// Delivered is true when an attempt got a 2xx.
	Delivered bool
	// DeadLettered is true when every attempt failed.
	DeadLettered bool
}

// Replay delivers body to h following Schedule, advancing clk by each wait
// (so dedupe records and timestamp windows see the real elapsed time),
// until an attempt is answered 2xx or the schedule is exhausted.
func (s *Sender) Replay(h http.Handler, clk *webhooktest.FakeClock, body []byte) Result {
	var res Result
	for _, wait := range Schedule {
		if wait > 0 && clk != nil {
			clk.Advance(wait)
		}
		code := s.Serve(h, body)
		res.Statuses = append(res.Statuses, code)
		if code >= 200 && code < 300 {
			res.Delivered = true
			return res
		}
	}
	res.DeadLettered = true
	return res
}

// ReplayAll simulates SIVO delivering many event bodies on one timeline:
// every event (the same body may appear several times, as concurrent
// redeliveries) is attempted at time zero, all due attempts are delivered
// concurrently, failed ones are rescheduled per Schedule, and clk is
// advanced to the next due attempt. It returns one Result per input event.
func (s *Sender) ReplayAll(h http.Handler, clk *webhooktest.FakeClock, events [][]byte) []Result {
	results := make([]Result, len(events))
	type pending struct {
		idx     int
		attempt int
		due     time.Duration
	}
	queue := make([]pending, len(events))
	for i := range events {
		queue[i] = pending{idx: i}
	}
	var now time.Duration
	for len(queue) > 0 {
		next := queue[0].due
		for _, p := range queue {
			if p.due < next {
				next = p.due
			}
		}
		if next > now {
			if clk != nil {
				clk.Advance(next - now)
			}
			now = next
		}
		var due, later []pending
		for _, p := range queue {
			if p.due <= now {
				due = append(due, p)
			} else {
				later = append(later, p)
			}
		}
		codes := make([]int, len(due))
		done := make(chan struct{})
		for i, p := range due {
			go func(i int, p pending) {
				codes[i] = s.Serve(h, events[p.idx])
				done <- struct{}{}
			}(i, p)
		}
		for range due {
			<-done
		}
		for i, p := range due {
			r := &results[p.idx]
			r.Statuses = append(r.Statuses, codes[i])
			switch {
			case codes[i] >= 200 && codes[i] < 300:
				r.Delivered = true
			case p.attempt+1 < len(Schedule):
				later = append(later, pending{idx: p.idx, attempt: p.attempt + 1, due: now + Schedule[p.attempt+1]})
			default:
				r.DeadLettered = true
			}
		}
		queue = later
	}
	return results
}
