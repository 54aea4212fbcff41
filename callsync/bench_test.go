package callsync_test

// Benchmark only (perf helper, issue 24): the CallSync receiver against a
// careful hand-written net/http handler.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/internal/benchkit"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// BenchmarkReceive compares the full CallSync receiver (verify, parse,
// dedupe, callback under its deadline, answer) with a careful hand-written
// net/http handler (benchkit.Handwritten) that verifies the HMAC in
// constant time, json.Unmarshals the event, processes each payload_id
// once and calls its callback, both over loopback HTTP with parallel
// clients. Each iteration is one delivery of the guide's call_logged
// sample with its own payload_id. (Ours keys a delivery by DeliveryKey,
// which also hashes the event: CallSync's payload_id is not unique per
// event, so keying by it alone, as the baseline does, would drop
// events.) cpu-ns/op is this process's CPU time (clients and server) per
// delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	s := testkit.Must(callsynctest.NewSender(secret))
	key := []byte(secret)
	benchkit.Vendor{ID: "wh_bench", Prefix: "wh_",
		Body: bytes.Replace(callsynctest.Sample("call_logged", "wh_bench"), []byte(`"2026-04-28T11:58:13.000Z"`), []byte(`"`+now+`"`), 1),
		Sign: func(_ int64, body []byte) http.Header { return s.Sign(body) },
		Check: func(r *http.Request, body []byte) (string, func(context.Context) error, int) {
			if !benchkit.ValidHexHMAC(r, callsync.HeaderSignature, "", key, body) {
				return "", nil, 401
			}
			var ev callsync.Event
			if json.Unmarshal(body, &ev) != nil {
				return "", nil, 400
			}
			return ev.PayloadID, func(context.Context) error { return benchkit.Callback(ev.PayloadID) }, 0
		},
		Handler: func() (benchkit.Receiver, error) {
			return callsync.NewHandler([]string{secret}, callsync.Callbacks{
				CallLogged: func(_ context.Context, ev *callsync.Event) error { return benchkit.Callback(ev.PayloadID) },
			})
		},
	}.Run(b)
}
