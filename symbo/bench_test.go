package symbo_test

// Benchmark only (perf helper, issue 24): the Symbo receiver against a
// careful hand-written net/http handler. Nothing here is part of the
// package's API.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// BenchmarkReceive compares the full Symbo receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with a
// careful hand-written net/http handler that reads the body (bounded),
// verifies the HMAC in constant time and json.Unmarshals the event, both
// over loopback HTTP with parallel clients. Each iteration is one delivery
// of a ~1 KiB call:completed with its own event id. cpu-ns/op is this
// process's CPU time (clients and server) per delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	call := symbo.Call{ID: "call-1", Direction: "outbound", From: "+14155550100", To: "+14155550199",
		State: "completed", CallDisposition: "connected", Note: strings.Repeat("n", 400),
		TotalTalkTimeMillis: 184000, RepTalkTimeMillis: 90000, ProspectTalkTimeMillis: 80000,
		Prospect: symbo.Prospect{ID: "pros-1", ExternalID: "crm-1", FullName: "Ada Lovelace"}}
	tmpl := symbotest.Event("evt_bench", "call:completed", call)
	s, err := symbotest.NewSender(secret)
	if err != nil {
		b.Fatal(err)
	}
	next := func(n int64) ([]byte, http.Header) {
		body := benchkit.Renumber(tmpl, "evt_bench", "evt_", n)
		return body, s.Sign(body)
	}
	run := func(b *testing.B, h http.Handler) { benchkit.Receive(b, h, len(tmpl), next) }
	b.Run("handwritten", func(b *testing.B) {
		key := []byte(secret)
		run(b, benchkit.Handwritten(func(r *http.Request, body []byte) int {
			if !benchkit.ValidHexHMAC(r, symbo.HeaderSignature, "", key, body) {
				return 401
			}
			var ev symbo.CallEvent
			if json.Unmarshal(body, &ev) != nil || ev.ID == "" || ev.Data.ID == "" {
				return 400
			}
			return 200
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{
			Call: func(_ context.Context, ev *symbo.CallEvent) error {
				if ev.Data.ID == "" {
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
