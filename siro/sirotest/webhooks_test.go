package sirotest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payload is the part of a recording webhook these tests read.
type payload struct {
	EventType string         `json:"eventType"`
	Processed bool           `json:"recordingProcessed"`
	Linked    bool           `json:"recordingLinked"`
	CRM       *siro.CRMLinks `json:"crm"`
}

// TestRecordingStateInPayloads: a recording starts unprocessed and
// unlinked; recordingProcessed and recordingLinked are independent, and
// every payload carries both flags as they are when it is built.
func TestRecordingStateInPayloads(t *testing.T) {
	ctx := context.Background()
	spec, err := spectest.Load()
	require.NoError(t, err)
	fake, _ := newFake(t)
	c, err := fake.Client()
	require.NoError(t, err)
	_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}})
	require.NoError(t, err)
	rec, err := fake.Record("appt-1", sirotest.Conversation{})
	require.NoError(t, err)

	read := func(ev siro.EventType) payload {
		t.Helper()
		body, err := fake.Payload(rec.RecordingID, ev)
		require.NoError(t, err)
		require.NoError(t, spec.ValidateWebhook(body))
		var p payload
		require.NoError(t, json.Unmarshal(body, &p))
		return p
	}
	p := read(siro.EventRecordingProcessed)
	assert.False(t, p.Processed)
	assert.False(t, p.Linked)
	assert.Nil(t, p.CRM, "no crm block before the recording is linked")
	r, err := c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.False(t, *r.IsProcessingDone)
	assert.Nil(t, r.CRM)

	require.NoError(t, fake.MarkProcessed(rec.RecordingID))
	p = read(siro.EventRecordingProcessed)
	assert.Equal(t, payload{EventType: string(siro.EventRecordingProcessed), Processed: true}, p,
		"processed first: recordingLinked false, no crm")

	require.NoError(t, fake.MarkLinked(rec.RecordingID))
	p = read(siro.EventRecordingLinked)
	assert.True(t, p.Processed)
	assert.True(t, p.Linked)
	require.NotNil(t, p.CRM)
	assert.Equal(t, "appt-1", p.CRM.Engagement.ExternalID)
	assert.Equal(t, "opp-1", p.CRM.Opportunity.ExternalID)
	r, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.True(t, *r.IsProcessingDone)
	require.NotNil(t, r.CRM)
	assert.Equal(t, "appt-1", r.CRM.Engagement.ExternalID)
	e, ok := fake.Engagement("appt-1")
	require.True(t, ok)
	assert.Equal(t, rec.RecordingID, e.RecordingID, "linking sets the engagement's recordingId")

	assert.Error(t, fake.MarkProcessed("no-such-recording"))
	assert.Error(t, fake.MarkLinked("no-such-recording"))
}

// TestDeliverWebhooksModelsEachOrder: DeliverWebhooks marks the condition
// each event announces as it sends it, so the first event reports the
// other condition false and the last reports both true, in either order;
// a redelivery (Times) repeats the same body.
func TestDeliverWebhooksModelsEachOrder(t *testing.T) {
	P, L := siro.EventRecordingProcessed, siro.EventRecordingLinked
	for name, tc := range map[string]struct {
		order []sirotest.Delivery
		want  []payload // a non-nil CRM: the payload has a crm block
		start sirotest.Conversation
	}{
		"processed then linked": {order: []sirotest.Delivery{{Type: P}, {Type: L}},
			want: []payload{{EventType: string(P), Processed: true}, {EventType: string(L), Processed: true, Linked: true, CRM: &siro.CRMLinks{}}}},
		"linked then processed, redelivered": {order: []sirotest.Delivery{{Type: L}, {Type: P, Times: 2}},
			want: []payload{{EventType: string(L), Linked: true, CRM: &siro.CRMLinks{}}, {EventType: string(P), Processed: true, Linked: true, CRM: &siro.CRMLinks{}},
				{EventType: string(P), Processed: true, Linked: true, CRM: &siro.CRMLinks{}}}},
		"already linked: processed says so": {order: []sirotest.Delivery{{Type: P}}, start: sirotest.Conversation{Linked: true},
			want: []payload{{EventType: string(P), Processed: true, Linked: true, CRM: &siro.CRMLinks{}}}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			fake, _ := newFake(t)
			c, err := fake.Client()
			require.NoError(t, err)
			_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1"})
			require.NoError(t, err)
			rec, err := fake.Record("appt-1", tc.start)
			require.NoError(t, err)
			var mu sync.Mutex
			var got []payload
			var ids []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				var p payload
				_ = json.Unmarshal(b, &p)
				if p.CRM != nil {
					p.CRM = &siro.CRMLinks{}
				}
				mu.Lock()
				got = append(got, p)
				ids = append(ids, r.Header.Get("Svix-Id"))
				mu.Unlock()
			}))
			defer srv.Close()
			_, err = fake.DeliverWebhooks(ctx, srv.URL, rec.RecordingID, tc.order...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			if n := len(ids); tc.order[len(tc.order)-1].Times > 1 {
				assert.Equal(t, ids[n-1], ids[n-2], "a redelivery is the same Svix message")
			}
		})
	}
}
