package riverinbox

import (
	"testing"
	"time"
)

// TestFilterMatch: every Filter field narrows the dead letters, the
// tenant included (a multi-account endpoint works one account's dead
// letters).
func TestFilterMatch(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	d := DeadLetter{Provider: "symbo", Receiver: "default", Tenant: "acme", Type: "call:updated", FailedAt: at}
	for _, c := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Provider: "symbo", Receiver: "default", Tenant: "acme", Type: "call:updated"}, true},
		{Filter{Tenant: "other"}, false},
		{Filter{Provider: "sivo"}, false},
		{Filter{Receiver: "b"}, false},
		{Filter{Type: "call:created"}, false},
		{Filter{Since: at, Until: at.Add(time.Second)}, true},
		{Filter{Since: at.Add(time.Second)}, false},
		{Filter{Until: at}, false},
	} {
		if got := c.f.match(d); got != c.want {
			t.Errorf("%+v: match = %v, want %v", c.f, got, c.want)
		}
	}
}
