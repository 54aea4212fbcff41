package webhook

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// thing is a vendor's parsed event in TestTypedSpec.
type thing struct {
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
}

// TestTypedSpec: a Spec[*thing] hands Time and Handle the *thing Parse
// returned, with no type assertion in the vendor's code, on the inline
// path and through an inbox's Process; Time's answer drives WithTolerance.
func TestTypedSpec(t *testing.T) {
	v, err := NewHMAC("X-Sig", "", engineSecret)
	require.NoError(t, err)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var got []*thing
	spec := Spec[*thing]{Provider: "acme", Verifier: v, RetryHorizon: time.Minute,
		Parse: func(ev *Event) (*thing, error) {
			var th thing
			if err := ev.Decode(&th); err != nil {
				return nil, err
			}
			ev.ID, ev.Type = th.ID, th.Type
			return &th, nil
		},
		Time: func(th *thing) (time.Time, bool) { return th.At, !th.At.IsZero() },
		Handle: func(_ context.Context, ev *Event, th *thing, _ Once) error {
			require.Equal(t, ev.ID, th.ID)
			got = append(got, th)
			return nil
		},
	}
	r, err := NewReceiver(spec, WithTolerance(time.Hour), WithClock(clock.NewFake(now)))
	require.NoError(t, err)
	body := []byte(`{"id":"t1","type":"thing.happened","at":"2026-12-04T09:30:00Z"}`)
	require.Equal(t, http.StatusOK, serve(r, signed(t, "/", "", "t1", body)))
	require.Len(t, got, 1)
	require.Equal(t, "thing.happened", got[0].Type)
	stale := []byte(`{"id":"t2","type":"thing.happened","at":"2026-12-04T08:00:00Z"}`)
	require.Equal(t, http.StatusUnauthorized, serve(r, signed(t, "/", "", "t2", stale)), "Time's typed answer is checked")
	require.Len(t, got, 1)

	// The inbox path parses again and hands Handle the same type.
	ev := &Event{Provider: "acme", Receiver: "default", Raw: body}
	require.NoError(t, r.Process(context.Background(), ev))
	require.Len(t, got, 2)
	require.Equal(t, "t1", got[1].ID)
}
