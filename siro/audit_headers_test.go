package siro_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) {
	secret := "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="
	in := &webhooktest.CaptureInbox{}
	h, err := siro.NewHandler([]string{secret}, siro.Callbacks{}, webhook.WithInbox(in))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sirotest.NewSender(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"recordingId":"r1","siroUserId":"u","recordingProcessed":true,"recordingLinked":false,"eventType":"integrations.recordingProcessed"}`)
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
	v, err := webhook.NewStandard([]string{secret}, webhook.InsecureSkipSignatureTimestamp())
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
