package webhooktest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"time"
)

// Sender signs bodies exactly as one vendor does and delivers them: to a
// URL over HTTP, to an http.Handler in process, or on the vendor's retry
// schedule against a fake clock. Every vendor's test package returns one
// from its NewSender (siro/sirotest, symbo/symbotest,
// callsync/callsynctest, sivo/sivotest; engrami/engramitest for the
// events you send to Engrami), so knowing one means knowing all five. Safe
// for concurrent use.
type Sender struct {
	// Client delivers over HTTP (nil: http.DefaultClient).
	Client *http.Client
	sign   func(h http.Header, body []byte) error
	path   string
	sched  []time.Duration
	// noRedirects: Deliver answers a 3xx as is (NoRedirects).
	noRedirects bool
	// timeout bounds Deliver's wait for an answer (DeliveryTimeout).
	timeout time.Duration
}

// SenderOption adjusts a Sender to a documented quirk of its vendor's
// deliveries.
type SenderOption func(*Sender)

// NoRedirects makes Deliver return a 3xx answer as the delivery's status
// instead of following it, whatever Client is set, for a vendor that
// documents that it does not follow redirects (SIVO: "No redirects — SIVO
// doesn't follow 3xx").
func NoRedirects() SenderOption { return func(s *Sender) { s.noRedirects = true } }

// DeliveryTimeout makes Deliver give up on an answer slower than d, for a
// vendor that documents how long it waits (SIVO: "Timeout: 10 seconds. If
// your endpoint is slower, it counts as failure"): Deliver then returns an
// error wrapping context.DeadlineExceeded. d <= 0 waits as long as ctx.
func DeliveryTimeout(d time.Duration) SenderOption { return func(s *Sender) { s.timeout = d } }

// NewSender returns a Sender whose sign function sets every header the
// vendor sends with body (signature, ids, Content-Type). path is the
// request path Serve uses; schedule is the vendor's documented retry
// schedule, measured from the first attempt's failure chain (its first
// element is 0: the first attempt). Vendor test packages call it; tests
// rarely need to. opts adjust it to the vendor's documented quirks.
func NewSender(sign func(h http.Header, body []byte) error, path string, schedule []time.Duration, opts ...SenderOption) *Sender {
	s := &Sender{sign: sign, path: path, sched: append([]time.Duration(nil), schedule...)}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

// Schedule returns the vendor's retry schedule: the wait before each
// attempt, the first being 0.
func (s *Sender) Schedule() []time.Duration { return append([]time.Duration(nil), s.sched...) }

// Sign returns every header the vendor sends with body. Signing a body
// twice gives the same delivery id where the vendor has one in a header
// (a redelivery), never a different one.
func (s *Sender) Sign(body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	_ = s.sign(h, body)
	return h
}

// Request builds the signed POST the vendor would send to url.
func (s *Sender) Request(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = s.Sign(body)
	return req, nil
}

// Deliver POSTs body to url over HTTP and returns the status code (of the
// last answer when redirects are followed; of a 3xx itself with
// NoRedirects), or an error (a DeliveryTimeout's deadline among them).
func (s *Sender) Deliver(ctx context.Context, url string, body []byte) (int, error) {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	req, err := s.Request(ctx, url, body)
	if err != nil {
		return 0, err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	if s.noRedirects {
		cp := *c
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c = &cp
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
	req, err := s.Request(context.Background(), "http://receiver.test"+s.path, body)
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

// Replay delivers body to h following the vendor's schedule, advancing clk
// by each wait (so dedupe records and timestamp windows see the real
// elapsed time), until an attempt is answered 2xx or the schedule is
// exhausted.
func (s *Sender) Replay(h http.Handler, clk *FakeClock, body []byte) Result {
	return s.ReplayAll(h, clk, [][]byte{body})[0]
}

// ReplayAll simulates the vendor delivering many bodies on one timeline:
// every body (the same body may appear several times, as concurrent
// redeliveries) is attempted at time zero, all due attempts are delivered
// concurrently, failed ones are rescheduled per the schedule, and clk is
// advanced to the next due attempt. It returns one Result per body.
func (s *Sender) ReplayAll(h http.Handler, clk *FakeClock, bodies [][]byte) []Result {
	results := make([]Result, len(bodies))
	type pending struct {
		idx, attempt int
		due          time.Duration
	}
	queue := make([]pending, len(bodies))
	for i := range bodies {
		queue[i] = pending{idx: i}
	}
	sched := s.sched
	if len(sched) == 0 {
		sched = []time.Duration{0}
	}
	var now time.Duration
	for len(queue) > 0 {
		next := queue[0].due
		for _, p := range queue {
			next = min(next, p.due)
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
			go func() {
				codes[i] = s.Serve(h, bodies[p.idx])
				done <- struct{}{}
			}()
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
			case p.attempt+1 < len(sched):
				later = append(later, pending{idx: p.idx, attempt: p.attempt + 1, due: now + sched[p.attempt+1]})
			default:
				r.DeadLettered = true
			}
		}
		queue = later
	}
	return results
}
