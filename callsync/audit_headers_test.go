package callsync_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/webhook"
)

// captureInbox keeps what a receiver enqueues.
type captureInbox struct{ got chan *webhook.Event }

func (c *captureInbox) Register(string, func(context.Context, *webhook.Event) error) error {
	return nil
}

func (c *captureInbox) Enqueue(_ context.Context, ev *webhook.Event) error { c.got <- ev; return nil }

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) {
	secret := "s3cret"
	in := &captureInbox{got: make(chan *webhook.Event, 1)}
	h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{}, webhook.WithInbox(in))
	if err != nil {
		t.Fatal(err)
	}
	s, err := callsynctest.NewSender(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(callsynctest.CallLoggedSample)
	req, err := s.Request(context.Background(), "http://receiver.test/hook", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-to-be-stored")
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		t.Fatalf("status %d", rec.code)
	}
	ev := <-in.got
	v, err := webhook.NewHMAC(callsync.HeaderSignature, "", secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ev.Header, ev.Raw); err != nil {
		t.Fatalf("the stored delivery does not verify again: %v (headers %v)", err, ev.Header)
	}
	if ev.Header.Get("Authorization") != "" {
		t.Fatal("a credential header was kept")
	}
}

type statusRecorder struct {
	header http.Header
	code   int
}

func (r *statusRecorder) Header() http.Header { return r.header }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = 200
	}
	return len(b), nil
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
