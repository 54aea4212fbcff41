package symbo_test

// Benchmark only (perf helper, issue 24): the Symbo receiver against a
// careful hand-written net/http handler. Nothing here is part of the
// package's API.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// BenchmarkReceive compares the full Symbo receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with a
// careful hand-written net/http handler (benchkit.Handwritten) that
// verifies the HMAC in constant time, json.Unmarshals the event,
// processes each event id once and calls its callback, both over
// loopback HTTP with parallel clients. Each iteration is one delivery of
// a ~1 KiB call:completed with its own event id. cpu-ns/op is this
// process's CPU time (clients and server) per delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	call := symbo.Call{ID: "call-1", Direction: "outbound", From: "+14155550100", To: "+14155550199",
		State: "completed", CallDisposition: "connected", Note: strings.Repeat("n", 400),
		TotalTalkTimeMillis: 184000, RepTalkTimeMillis: 90000, ProspectTalkTimeMillis: 80000,
		Prospect: symbo.Prospect{ID: "pros-1", ExternalID: "crm-1", FullName: "Ada Lovelace"}}
	s := testkit.Must(symbotest.NewSender(secret))
	key := []byte(secret)
	benchkit.Vendor{Body: symbotest.Event("evt_bench", "call:completed", call), ID: "evt_bench", Prefix: "evt_",
		Sign: func(_ int64, body []byte) http.Header { return s.Sign(body) },
		Check: func(r *http.Request, body []byte) (string, func(context.Context) error, int) {
			if !benchkit.ValidHexHMAC(r, symbo.HeaderSignature, "", key, body) {
				return "", nil, 401
			}
			var ev symbo.CallEvent
			if json.Unmarshal(body, &ev) != nil || ev.ID == "" {
				return "", nil, 400
			}
			return ev.ID, func(context.Context) error { return benchkit.Callback(ev.Data.ID) }, 0
		},
		Handler: func() (benchkit.Receiver, error) {
			return symbo.NewHandler([]string{secret}, symbo.Callbacks{
				Call: func(_ context.Context, ev *symbo.CallEvent) error { return benchkit.Callback(ev.Data.ID) },
			})
		},
	}.Run(b)
}
