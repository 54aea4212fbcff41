package callsync_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetryWithNewTimestampIsDuplicate: the envelope timestamp is when
// CallSync sent the payload; a retry that changes it (or re-serialises
// the JSON with other spacing or key order) is the same event, processed
// once. Two calls sharing a payload_id, and two updates of one call, are
// two events.
func TestRetryWithNewTimestampIsDuplicate(t *testing.T) {
	var calls testkit.Lines
	h, err := callsync.NewHandler([]string{"k"}, callsync.Callbacks{
		CallLogged: testkit.Record(&calls, func(ev *callsync.Event) string {
			return string(ev.Data.CallDetails.CallID) + " " + ev.Data.CallDetails.FileStatus
		}),
	})
	require.NoError(t, err)
	s, err := callsynctest.NewSender("k")
	require.NoError(t, err)
	first := string(callsynctest.Sample(callsync.EventCallLogged, "wh_1"))
	require.Contains(t, first, `"timestamp": "2026-04-28T11:58:13.000Z"`)
	assert.Equal(t, 200, s.Serve(h, []byte(first)))

	retried := strings.Replace(first, `"timestamp": "2026-04-28T11:58:13.000Z"`, `"timestamp": "2026-04-28T11:59:13.000Z"`, 1)
	assert.Equal(t, 200, s.Serve(h, []byte(retried)), "a retry with a new envelope timestamp")
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, []byte(retried)))
	assert.Equal(t, 200, s.Serve(h, compact.Bytes()), "the same event re-serialised without spaces")

	otherCall := strings.Replace(first, `"call_id": 88231`, `"call_id": 88232`, 1)
	require.NotEqual(t, first, otherCall)
	assert.Equal(t, 200, s.Serve(h, []byte(otherCall)), "another call, same payload_id")
	update := strings.Replace(first, `"file_status": "completed"`, `"file_status": "archived"`, 1)
	require.NotEqual(t, first, update)
	assert.Equal(t, 200, s.Serve(h, []byte(update)), "another state of the call, same payload_id")

	assert.Equal(t, []string{"88231 completed", "88232 completed", "88231 archived"}, calls.Get())
	assert.Equal(t, int64(2), h.Stats().Duplicates)

	k1, err := callsync.DeliveryKey([]byte(first))
	require.NoError(t, err)
	k2, err := callsync.DeliveryKey([]byte(retried))
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	assert.True(t, strings.HasPrefix(k1, "wh_1:"), k1)
	_, err = callsync.DeliveryKey([]byte(`{"payload_id":"x"} {}`))
	assert.Error(t, err)
}

// FuzzDeliveryKey: any valid JSON object gets a key without panicking, and
// changing only its top-level timestamp, or its whitespace, keeps the key.
func FuzzDeliveryKey(f *testing.F) {
	f.Add([]byte(callsynctest.CallLoggedSample))
	f.Add([]byte(`{"timestamp":1,"payload_id":"p","x":"a \"b\" {c}"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		k, err := callsync.DeliveryKey(body)
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return
		}
		if err != nil {
			t.Fatalf("a JSON object got %v", err)
		}
		m["timestamp"] = "2030-01-01T00:00:00Z"
		other, _ := json.MarshalIndent(m, "", "  ")
		m["timestamp"] = "2031-01-01T00:00:00Z"
		again, _ := json.Marshal(m)
		k1, err1 := callsync.DeliveryKey(other)
		k2, err2 := callsync.DeliveryKey(again)
		if err1 != nil || err2 != nil || k1 != k2 {
			t.Fatalf("timestamp or whitespace changed the key: %q %q (%v %v); original %q", k1, k2, err1, err2, k)
		}
	})
}
