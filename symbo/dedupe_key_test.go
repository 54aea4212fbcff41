package symbo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameIDOtherEventIsProcessed: Symbo's envelope id alone does not
// identify an event. A later event reusing an id for a later revision of
// the call (a note added: new updated_at), for another event name or for
// another call is processed, not answered 200 and dropped; a redelivery
// of the same event, even with another envelope created_at, is a
// duplicate.
func TestSameIDOtherEventIsProcessed(t *testing.T) {
	var seen testkit.Lines
	h, err := symbo.NewHandler([]string{"k"}, symbo.Callbacks{
		Call: testkit.Record(&seen, func(ev *symbo.CallEvent) string {
			return string(ev.Type) + " " + ev.Data.ID + " " + ev.Data.Note
		}),
	})
	require.NoError(t, err)
	s, err := symbotest.NewSender("k")
	require.NoError(t, err)
	t1 := webhook.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	t2 := webhook.NewTime(time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC))
	call := symbo.Call{ID: "call-1", State: "completed", UpdatedAt: t1, CreatedAt: t1}
	first := symbotest.Event("evt-1", symbo.EventCallUpdated, call)
	assert.Equal(t, 200, s.Serve(h, first))
	assert.Equal(t, 200, s.Serve(h, first), "redelivery")
	resent := strings.Replace(string(first), `"user_id":"user-1","created_at":"2026-03-01T09:00:00.000Z"`, `"user_id":"user-1","created_at":"2026-03-01T09:00:07.000Z"`, 1)
	require.NotEqual(t, string(first), resent, "the envelope's created_at changed")
	assert.Equal(t, 200, s.Serve(h, []byte(resent)), "redelivery with another envelope created_at")

	noted := call
	noted.Note, noted.UpdatedAt = "called back, wants a quote", t2
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("evt-1", symbo.EventCallUpdated, noted)), "a later revision of the call")
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("evt-1", symbo.EventCallCompleted, call)), "another event name")
	other := call
	other.ID = "call-2"
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("evt-1", symbo.EventCallUpdated, other)), "another call")
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("evt-1", "call.updated", noted)), "the dot spelling is the same event")

	assert.Equal(t, []string{
		"call:updated call-1 ",
		"call:updated call-1 called back, wants a quote",
		"call:completed call-1 ",
		"call:updated call-2 ",
	}, seen.Get())
	assert.Equal(t, int64(3), h.Stats().Duplicates)
}

// TestDeliveryKey: the key starts with the envelope id (readable in logs),
// a body without one is keyed by its hash, and a data that is not an
// object still has a key.
func TestDeliveryKey(t *testing.T) {
	k, err := symbo.DeliveryKey([]byte(symbotest.DocSample))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(k, "ecc25304-ad56-4f73-b75c-77f3165c6c65:"), k)
	k2, err := symbo.DeliveryKey([]byte(`{"id":"x","description":"prospect:created","data":"odd"}`))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(k2, "x:"), k2)
	k3, err := symbo.DeliveryKey([]byte(`{"description":"call:updated"}`))
	require.NoError(t, err)
	assert.Equal(t, webhook.BodyHash([]byte(`{"description":"call:updated"}`)), k3)
	_, err = symbo.DeliveryKey([]byte(`nope`))
	assert.Error(t, err)
}
