package siro_test

// Benchmark only (perf helper, issue 24): the Siro receiver against a
// careful hand-written net/http handler.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// BenchmarkReceive compares the full Siro receiver (Standard Webhooks
// verification, parse, dedupe, callback under its deadline, answer) with a
// careful hand-written net/http handler that reads the body (bounded),
// checks the timestamp window and the v1 signature in constant time and
// json.Unmarshals the event, both over loopback HTTP with parallel
// clients. Each iteration is one ~1 KiB recording.processed delivery with
// its own svix-id. cpu-ns/op is this process's CPU time per delivery.
func BenchmarkReceive(b *testing.B) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("bench-secret-bench-secret-32byte"))
	signer, err := webhook.NewStandardSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	tmpl, _ := json.Marshal(map[string]any{"recordingId": "rec_bench", "siroUserId": "user_1", "eventType": siro.EventRecordingProcessed,
		"recordingProcessed": true, "recordingLinked": false, "crm": map[string]any{"engagement": map[string]any{"externalId": "eng-1", "notes": strings.Repeat("n", 800)}}})
	next := func(n int64) ([]byte, http.Header) {
		body := benchkit.Renumber(tmpl, "rec_bench", "rec_", n)
		h := http.Header{"Content-Type": {"application/json"}, "Svix-Id": {"msg_" + strconv.FormatInt(n, 10)}}
		if err := signer.SignHeader(h, body); err != nil {
			b.Error(err)
		}
		return body, h
	}
	run := func(b *testing.B, h http.Handler) { benchkit.Receive(b, h, len(tmpl), next) }
	b.Run("handwritten", func(b *testing.B) {
		key, _ := webhook.ParseStandardSecret(secret)
		run(b, benchkit.Handwritten(func(r *http.Request, body []byte) int {
			id, ts := r.Header.Get("Svix-Id"), r.Header.Get("Svix-Timestamp")
			secs, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || id == "" || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Minute {
				return 400
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte(id + "." + ts + "."))
			m.Write(body)
			want := base64.StdEncoding.EncodeToString(m.Sum(nil))
			ok := false
			for _, sig := range strings.Fields(r.Header.Get("Svix-Signature")) {
				if v, s, found := strings.Cut(sig, ","); found && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
					ok = true
				}
			}
			var ev siro.RecordingEvent
			if !ok {
				return 401
			}
			if json.Unmarshal(body, &ev) != nil || ev.RecordingID == "" {
				return 400
			}
			return 200
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := siro.NewHandler([]string{secret}, siro.Callbacks{
			RecordingProcessed: func(_ context.Context, e *siro.RecordingEvent) error {
				if e.RecordingID == "" {
					return io.ErrUnexpectedEOF
				}
				return nil
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		run(b, h)
	})
}
