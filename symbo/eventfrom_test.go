package symbo_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// TestEventFromCallAndOtherObjects: behind Middleware, EventFrom returns
// the typed call event for a call event, and false for another object
// (whose verified delivery webhook.EventFrom still returns).
func TestEventFromCallAndOtherObjects(t *testing.T) {
	const secret = "eventfrom-secret"
	mw, err := symbo.Middleware([]string{secret})
	require.NoError(t, err)
	type seen struct {
		call *symbo.CallEvent
		ok   bool
		typ  string
	}
	var got seen
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{}
		got.call, got.ok = symbo.EventFrom(r.Context())
		if ev, ok := webhook.EventFrom(r.Context()); ok {
			got.typ = ev.Type
		}
	}))
	s, err := symbotest.NewSender(secret)
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, s.Serve(h, []byte(symbotest.DocSample)))
	require.True(t, got.ok)
	require.NotNil(t, got.call)
	require.Equal(t, string(got.call.Type), got.typ)

	prospect := []byte(`{"id":"evt-p1","event":"prospect.created","data":{"id":"p1"}}`)
	require.Equal(t, http.StatusOK, s.Serve(h, prospect))
	require.False(t, got.ok, "a prospect is not a call event")
	require.Nil(t, got.call)
	require.Equal(t, string(symbo.EventProspectCreated), got.typ)
}
