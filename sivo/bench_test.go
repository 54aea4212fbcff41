package sivo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// benchEvent is a SIVO call.ended padded to 1 KiB, the size of a real CDR.
func benchEvent(b *testing.B) *sivo.Event {
	ev, err := sivotest.NewEvent("evt_bench", sivo.EventCallEnded, time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC), map[string]any{
		"callId": "uuid-call", "direction": "inbound", "from": "+34611222333", "to": "+34911234567",
		"duration_sec": 184, "agentId": "uuid-agent", "queueId": "uuid-queue", "mosScore": 4.3,
		"hangupCause": "NORMAL_CLEARING", "notes": strings.Repeat("x", 1024-330),
	})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(ev.Raw); n < 1000 || n > 1100 {
		b.Fatalf("event is %d bytes, want about 1 KiB", n)
	}
	return ev
}

// BenchmarkReceive compares the full SIVO receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with two
// baselines, all over loopback HTTP with parallel clients (one delivery
// with its own event id per iteration): "bare", a handler that only
// reads the body and json.Unmarshals it (no verification: the floor a
// session ago compared against), and "handwritten", a careful hand-written
// net/http handler that reads the body bounded, verifies SIVO's
// X-Sivo-Signature in constant time, decodes the envelope and the
// call.ended data, checks the headers against the body and answers.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	ev := benchEvent(b)
	s, _ := sivotest.NewSender(secret)
	next := func(n int64) ([]byte, http.Header) {
		body := benchkit.Renumber(ev.Raw, "evt_bench", "evt_", n)
		return body, s.Sign(body)
	}
	run := func(b *testing.B, h http.Handler) { benchkit.Receive(b, h, len(ev.Raw), next) }
	b.Run("bare", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			var e sivo.Event
			if err != nil || json.Unmarshal(body, &e) != nil {
				w.WriteHeader(400)
				return
			}
			var c sivo.CallEnded
			if json.Unmarshal(e.Data, &c) != nil || c.CallID == "" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
	})
	b.Run("handwritten", func(b *testing.B) {
		key := []byte(secret)
		run(b, benchkit.Handwritten(func(r *http.Request, body []byte) int {
			if !benchkit.ValidHexHMAC(r, sivo.HeaderSignature, sivo.SignaturePrefix, key, body) {
				return 401
			}
			var e sivo.Event
			if json.Unmarshal(body, &e) != nil || e.ID == "" || e.ID != r.Header.Get(sivo.HeaderEventID) ||
				string(e.Type) != r.Header.Get(sivo.HeaderEventType) {
				return 400
			}
			var c sivo.CallEnded
			if e.Type != sivo.EventCallEnded || json.Unmarshal(e.Data, &c) != nil || c.CallID == "" {
				return 400
			}
			return 200
		}))
	})
	cb := sivo.Callbacks{
		CallEnded: func(_ context.Context, _ *sivo.Event, c *sivo.CallEnded) error {
			if c.CallID == "" {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
	}
	b.Run("handler", func(b *testing.B) {
		h, err := sivo.NewHandler([]string{secret}, cb)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		run(b, h)
	})
	// source: the secrets come from a webhook.SecretSource on every
	// delivery (the verifier is cached per tenant and secret list).
	src := webhook.SecretsFunc(func(context.Context, string) ([]string, error) { return []string{secret}, nil })
	b.Run("source", func(b *testing.B) {
		h, err := sivo.NewHandler(nil, cb, webhook.WithSecretSource(src, webhook.FixedTenant("acme")))
		if err != nil {
			b.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		run(b, h)
	})
	// source-cached: the same through a webhook.SecretCache (30 s TTL).
	b.Run("source-cached", func(b *testing.B) {
		cache, err := webhook.NewSecretCache(src, 30*time.Second, nil)
		if err != nil {
			b.Fatal(err)
		}
		h, err := sivo.NewHandler(nil, cb, webhook.WithSecretSource(cache, webhook.FixedTenant("acme")))
		if err != nil {
			b.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		run(b, h)
	})
}
