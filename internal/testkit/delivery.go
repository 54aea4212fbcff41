package testkit

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// CheckStoredDelivery delivers one s.Body, signed by s.Sign and with an
// Authorization header, to a receiver built by s.New with an inbox, and
// fails t unless it is answered 200 with exactly one event stored and no
// credential header kept, and unless the stored headers and body, replayed
// to a fresh receiver (an audit from storage), verify and reach the
// callback once.
func CheckStoredDelivery(t testing.TB, s webhooktest.Subject) {
	t.Helper()
	var opts []webhook.Option
	if s.Clock != nil {
		opts = append(opts, webhook.WithClock(s.Clock))
	}
	var runs atomic.Int32
	b := webhooktest.Behaviour{
		Event:   func(context.Context, string) error { runs.Add(1); return nil },
		Unknown: func(context.Context, *webhook.Event) error { return errors.New("testkit: an unknown event") },
	}
	post := func(h http.Handler, hdr http.Header, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "http://receiver.test/hook", bytes.NewReader(body))
		maps.Copy(req.Header, hdr)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	in := &webhooktest.CaptureInbox{}
	h, err := s.New(b, append(opts, webhook.WithInbox(in))...)
	if err != nil {
		t.Fatal(err)
	}
	body := s.Body("evt-stored-1")
	hdr := s.Sign(body)
	hdr.Set("Authorization", "Bearer not-to-be-stored")
	if code, n := post(h, hdr, body), len(in.Events()); code != http.StatusOK || n != 1 {
		t.Fatalf("status %d, %d events enqueued", code, n)
	}
	ev := in.Events()[0]
	if ev.Header.Get("Authorization") != "" {
		t.Fatal("a credential header was kept")
	}
	fresh, err := s.New(b, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if code := post(fresh, ev.Header, ev.Raw); code != http.StatusOK || runs.Load() != 1 {
		t.Fatalf("the stored delivery does not verify again: status %d, %d callback runs (headers %v)", code, runs.Load(), ev.Header)
	}
}
