package sivo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// BenchmarkReceive compares the full SIVO receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with two
// baselines, all over loopback HTTP with parallel clients (one 1 KiB
// call.ended with its own event id per iteration): "bare", a handler that
// only reads the body and json.Unmarshals it (no verification: the floor
// a session ago compared against), and "handwritten", a careful
// hand-written net/http handler (benchkit.Handwritten) that verifies
// SIVO's X-Sivo-Signature in constant time, decodes the envelope and the
// call.ended data, checks the headers against the body, processes each
// event id once and calls its callback.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	ev, err := sivotest.SizedCallEnded("evt_bench", time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC), 1<<10)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := sivotest.NewSender(secret)
	cb := sivo.Callbacks{CallEnded: func(_ context.Context, _ *sivo.Event, c *sivo.CallEnded) error { return benchkit.Callback(c.CallID) }}
	key := []byte(secret)
	v := benchkit.Vendor{Body: ev.Raw, ID: "evt_bench", Prefix: "evt_",
		Sign: func(_ int64, body []byte) http.Header { return s.Sign(body) },
		Check: func(r *http.Request, body []byte) (string, func(context.Context) error, int) {
			if !benchkit.ValidHexHMAC(r, sivo.HeaderSignature, sivo.SignaturePrefix, key, body) {
				return "", nil, 401
			}
			var e sivo.Event
			if json.Unmarshal(body, &e) != nil || e.ID == "" || e.ID != r.Header.Get(sivo.HeaderEventID) ||
				string(e.Type) != r.Header.Get(sivo.HeaderEventType) {
				return "", nil, 400
			}
			var c sivo.CallEnded
			if e.Type != sivo.EventCallEnded || json.Unmarshal(e.Data, &c) != nil {
				return "", nil, 400
			}
			return e.ID, func(context.Context) error { return benchkit.Callback(c.CallID) }, 0
		},
		Handler: func() (benchkit.Receiver, error) { return sivo.NewHandler([]string{secret}, cb) },
	}
	b.Run("bare", func(b *testing.B) {
		v.Serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	v.Run(b)
	// source: the secrets come from a webhook.SecretSource on every
	// delivery (the verifier is cached per tenant and secret list).
	src := webhook.SecretsFunc(func(context.Context, string) ([]string, error) { return []string{secret}, nil })
	v.Receiver(b, "source", func() (benchkit.Receiver, error) {
		return sivo.NewHandler(nil, cb, webhook.WithSecretSource(src, webhook.FixedTenant("acme")))
	})
	// source-cached: the same through a webhook.SecretCache (30 s TTL).
	v.Receiver(b, "source-cached", func() (benchkit.Receiver, error) {
		cache, err := webhook.NewSecretCache(src, 30*time.Second, nil)
		if err != nil {
			return nil, err
		}
		return sivo.NewHandler(nil, cb, webhook.WithSecretSource(cache, webhook.FixedTenant("acme")))
	})
}
