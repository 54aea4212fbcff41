package siro_test

// Benchmark only (perf helper, issue 24): the Siro receiver against a
// careful hand-written net/http handler.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
// careful hand-written net/http handler (benchkit.Handwritten) that
// checks the timestamp window and the v1 signature in constant time,
// json.Unmarshals the event, processes each svix-id once and calls its
// callback, both over loopback HTTP with parallel clients. Each iteration
// is one ~1 KiB recording.processed delivery with its own svix-id.
// cpu-ns/op is this process's CPU time per delivery.
func BenchmarkReceive(b *testing.B) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("bench-secret-bench-secret-32byte"))
	signer, err := webhook.NewStandardSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	tmpl, _ := json.Marshal(map[string]any{"recordingId": "rec_bench", "siroUserId": "user_1", "eventType": siro.EventRecordingProcessed,
		"recordingProcessed": true, "recordingLinked": false, "crm": map[string]any{"engagement": map[string]any{"externalId": "eng-1", "notes": strings.Repeat("n", 800)}}})
	key, _ := webhook.ParseStandardSecret(secret)
	benchkit.Vendor{Body: tmpl, ID: "rec_bench", Prefix: "rec_",
		Sign: func(n int64, body []byte) http.Header {
			h := http.Header{"Content-Type": {"application/json"}, "Svix-Id": {"msg_" + strconv.FormatInt(n, 10)}}
			if err := signer.SignHeader(h, body); err != nil {
				b.Error(err)
			}
			return h
		},
		Check: func(r *http.Request, body []byte) (string, func(context.Context) error, int) {
			id, ts := r.Header.Get("Svix-Id"), r.Header.Get("Svix-Timestamp")
			secs, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || id == "" || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Minute {
				return "", nil, 400
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
				return "", nil, 401
			}
			if json.Unmarshal(body, &ev) != nil || ev.RecordingID == "" {
				return "", nil, 400
			}
			return id, func(context.Context) error { return benchkit.Callback(ev.RecordingID) }, 0
		},
		Handler: func() (benchkit.Receiver, error) {
			return siro.NewHandler([]string{secret}, siro.Callbacks{
				RecordingProcessed: func(_ context.Context, e *siro.RecordingEvent) error { return benchkit.Callback(e.RecordingID) },
			})
		},
	}.Run(b)
}
