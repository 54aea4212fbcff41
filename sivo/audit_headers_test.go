package sivo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"time"
)

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) {
	secret := "s3cret"
	in := &webhooktest.CaptureInbox{}
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithInbox(in))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sivotest.NewSender(secret)
	if err != nil {
		t.Fatal(err)
	}
	sample, _ := sivotest.CallEnded("evt_audit", time.Now(), sivo.CallEnded{CallID: "c1"})
	body := sample.Raw
	req, err := s.Request(context.Background(), "http://receiver.test/hook", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-to-be-stored")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || len(in.Events()) != 1 {
		t.Fatalf("status %d, %d events enqueued", rec.Code, len(in.Events()))
	}
	ev := in.Events()[0]
	v, err := webhook.NewHMAC(sivo.HeaderSignature, sivo.SignaturePrefix, secret)
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
