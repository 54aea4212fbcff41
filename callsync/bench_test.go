package callsync_test

// Benchmark only (perf helper, issue 24): the CallSync receiver against a
// careful hand-written net/http handler.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/internal/benchkit"
)

// BenchmarkReceive compares the full CallSync receiver (verify, parse,
// dedupe, callback under its deadline, answer) with a careful hand-written
// net/http handler that reads the body (bounded), verifies the HMAC in
// constant time and json.Unmarshals the event, both over loopback HTTP
// with parallel clients. Each iteration is one delivery of the guide's
// call_logged sample with its own payload_id. cpu-ns/op is this process's
// CPU time (clients and server) per delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	tmpl := bytes.Replace(callsynctest.Sample("call_logged", "wh_bench"), []byte(`"2026-04-28T11:58:13.000Z"`), []byte(`"`+now+`"`), 1)
	s, err := callsynctest.NewSender(secret)
	if err != nil {
		b.Fatal(err)
	}
	next := func(n int64) ([]byte, http.Header) {
		body := benchkit.Renumber(tmpl, "wh_bench", "wh_", n)
		return body, s.Sign(body)
	}
	run := func(b *testing.B, h http.Handler) { benchkit.Receive(b, h, len(tmpl), next) }
	b.Run("handwritten", func(b *testing.B) {
		key := []byte(secret)
		run(b, benchkit.Handwritten(func(r *http.Request, body []byte) int {
			if !benchkit.ValidHexHMAC(r, callsync.HeaderSignature, "", key, body) {
				return 401
			}
			var ev callsync.Event
			if json.Unmarshal(body, &ev) != nil || ev.PayloadID == "" {
				return 400
			}
			return 200
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{
			CallLogged: func(_ context.Context, ev *callsync.Event) error {
				if ev.PayloadID == "" {
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
