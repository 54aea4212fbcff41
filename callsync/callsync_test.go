package callsync_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleDecodesFieldForField(t *testing.T) {
	ev, err := callsync.ParseEvent([]byte(callsynctest.CallLoggedSample))
	require.NoError(t, err)
	assert.Equal(t, "call_logged", string(ev.Type))
	assert.Equal(t, "incoming", ev.CallType)
	assert.Equal(t, "org_demo_123", ev.OrgID)
	assert.Equal(t, time.Date(2026, 4, 28, 11, 58, 13, 0, time.UTC), ev.Timestamp.Time)
	assert.Equal(t, "wh_live_call_logged", ev.PayloadID)
	cd := ev.Data.CallDetails
	assert.Equal(t, webhook.ID("88231"), cd.CallID, "a JSON number")
	assert.Equal(t, "incoming", cd.Direction)
	assert.Equal(t, "incoming", cd.Type)
	assert.Equal(t, "incoming", cd.Status)
	assert.Equal(t, webhook.Int{Value: 124, Valid: true}, cd.DurationTotal, "a JSON string")
	assert.Equal(t, "https://r2.callsyncapp.com/UPTOWN/8/2026_04/rec_88231.mp3", cd.RecordingURL)
	assert.Equal(t, "completed", cd.FileStatus)
	assert.False(t, cd.Reviewed)
	assert.Equal(t, time.Date(2024, 4, 28, 11, 58, 0, 0, time.UTC), cd.StartedAt.Time)
	assert.Equal(t, callsync.Caller{Phone: "+919876543210", Name: "John Doe"}, ev.Data.Caller)
	assert.Equal(t, callsync.Identity{ID: "contact_9921", Name: "John Doe", Phone: "+919876543210", Email: "john.doe@example.com",
		Note: "VIP Corporate Account", Labels: []string{"high-value", "priority"}}, ev.Data.Identity)
	assert.Equal(t, "pending", ev.Data.AIAnalysis.Status)
	assert.JSONEq(t, `{"status":"pending"}`, string(ev.Data.AIAnalysis.Raw))
	assert.Equal(t, callsync.Staff{ID: "emp_7721", Name: "Rahul Sharma", Phone: "+918877665544", Email: "rahul@company.com"}, ev.Data.Staff)
}

func TestLooseNumbers(t *testing.T) {
	for _, body := range []string{
		`{"data":{"call_details":{"call_id":"88231","duration_total":124}}}`,
		`{"data":{"call_details":{"call_id":88231,"duration_total":"124"}}}`,
	} {
		ev, err := callsync.ParseEvent([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, webhook.ID("88231"), ev.Data.CallDetails.CallID)
		assert.Equal(t, int64(124), ev.Data.CallDetails.DurationTotal.Value)
	}
	for _, body := range []string{
		`{"data":{"call_details":{"duration_total":"two minutes"}}}`,
		`{"data":{"call_details":{"duration_total":true}}}`,
		`{"data":{"call_details":{"call_id":{"x":1}}}}`,
	} {
		_, err := callsync.ParseEvent([]byte(body))
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), "callsync: decoding event")
	}
	var extra struct {
		Status  string  `json:"status"`
		Summary string  `json:"summary"`
		Score   float64 `json:"score"`
	}
	ev, err := callsync.ParseEvent([]byte(`{"event":"ai_analysis","data":{"ai_analysis":{"status":"done","summary":"Booked","score":0.9}}}`))
	require.NoError(t, err)
	require.NoError(t, ev.Data.AIAnalysis.Decode(&extra))
	assert.Equal(t, "Booked", extra.Summary)
}

func TestHandler(t *testing.T) {
	const secret = "wh-secret"
	var got = map[string]*atomic.Int32{}
	for _, e := range []string{"call_logged", "recording_updated", "ai_analysis", "caller_updated", "unknown"} {
		got[e] = &atomic.Int32{}
	}
	var fail atomic.Bool
	count := func(ctx context.Context, ev *callsync.Event) error {
		if fail.Load() {
			return errors.New("crm down")
		}
		got[string(ev.Type)].Add(1)
		return nil
	}
	h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{
		CallLogged: count, RecordingUpdated: count, AIAnalysis: count, CallerUpdated: count,
		Unknown: func(_ context.Context, ev *webhook.Event) error {
			assert.Contains(t, string(ev.Raw), "call_deleted")
			got["unknown"].Add(1)
			return nil
		},
	})
	require.NoError(t, err)
	s, _ := callsynctest.NewSender(secret)
	for i, e := range []callsync.EventType{"call_logged", "recording_updated", "ai_analysis", "caller_updated", "call_deleted"} {
		assert.Equal(t, 200, s.Serve(h, callsynctest.Sample(e, "p"+string(rune('0'+i)))))
	}
	for e, n := range got {
		assert.Equal(t, int32(1), n.Load(), e)
	}
	// A byte-identical redelivery is a duplicate; a failure lets the retry through.
	assert.Equal(t, 200, s.Serve(h, callsynctest.Sample("call_logged", "p0")))
	assert.Equal(t, int32(1), got["call_logged"].Load())
	fail.Store(true)
	assert.Equal(t, 500, s.Serve(h, callsynctest.Sample("call_logged", "p9")))
	fail.Store(false)
	assert.Equal(t, 200, s.Serve(h, callsynctest.Sample("call_logged", "p9")))
	assert.Equal(t, int32(2), got["call_logged"].Load())

	bad := []struct {
		name string
		body string
		sig  func(string) string
		want int
	}{
		{"no signature", callsynctest.CallLoggedSample, func(string) string { return "" }, 401},
		{"wrong secret", callsynctest.CallLoggedSample, func(b string) string {
			o, _ := callsynctest.NewSender("x")
			return o.Sign([]byte(b)).Get(callsync.HeaderSignature)
		}, 401},
		{"not hex", callsynctest.CallLoggedSample, func(string) string { return strings.Repeat("g", 64) }, 400},
		{"bad duration", `{"event":"call_logged","payload_id":"z","data":{"call_details":{"duration_total":"x"}}}`, func(b string) string { return s.Sign([]byte(b)).Get(callsync.HeaderSignature) }, 400},
		{"oversize", `{"event":"call_logged","payload_id":"big","pad":"` + strings.Repeat("a", 2<<20) + `"}`, func(b string) string { return s.Sign([]byte(b)).Get(callsync.HeaderSignature) }, 413},
	}
	for _, b := range bad {
		req := httptest.NewRequest("POST", "/", strings.NewReader(b.body))
		if sig := b.sig(b.body); sig != "" {
			req.Header.Set(callsync.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, b.want, rec.Code, b.name)
	}
	assert.Equal(t, int32(2), got["call_logged"].Load())
	req := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 405, rec.Code)
}

// TestSamePayloadIDDifferentCallsBothProcessed: CallSync's payload_id looks
// like one value per event type ("wh_live_call_logged"), so two different
// calls sent with it are both processed; a body without payload_id (a test
// payload) is processed too, keyed by its hash.
func TestSamePayloadIDDifferentCallsBothProcessed(t *testing.T) {
	var calls []string
	h, err := callsync.NewHandler([]string{"s"}, callsync.Callbacks{
		CallLogged: func(_ context.Context, ev *callsync.Event) error {
			calls = append(calls, string(ev.Data.CallDetails.CallID))
			return nil
		},
		Unknown: func(_ context.Context, ev *webhook.Event) error {
			calls = append(calls, "unknown:"+ev.Type)
			return nil
		},
	})
	require.NoError(t, err)
	s, _ := callsynctest.NewSender("s")
	first := []byte(callsynctest.CallLoggedSample)
	second := []byte(strings.Replace(callsynctest.CallLoggedSample, `"call_id": 88231`, `"call_id": 88232`, 1))
	assert.Equal(t, 200, s.Serve(h, first))
	assert.Equal(t, 200, s.Serve(h, second))
	assert.Equal(t, 200, s.Serve(h, first), "a byte-identical retry is a duplicate")
	assert.Equal(t, 200, s.Serve(h, []byte(`{"event":"call_logged","data":{"call_details":{"call_id":"t1"}}}`)), "no payload_id: processed")
	assert.Equal(t, 200, s.Serve(h, []byte(`{"test":true}`)), "an undocumented test payload reaches Unknown")
	assert.Equal(t, []string{"88231", "88232", "t1", "unknown:"}, calls)
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(callsynctest.CallLoggedSample))
	f.Add([]byte(`{"data":{"call_details":{"call_id":"1","duration_total":1e3}}}`))
	f.Add([]byte(`{"data":{"ai_analysis":[]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := callsync.ParseEvent(body)
		if err != nil {
			return
		}
		var m map[string]any
		_ = ev.Data.AIAnalysis.Decode(&m)
		_ = ev.Data.CallDetails.DurationTotal.String()
	})
}
