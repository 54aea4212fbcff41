package webhook

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A receiver and a Config must not print their verifier's key states
// or the secret under any verb.
func TestReceiverAndConfigFormatHideSecrets(t *testing.T) {
	const secret = "hmac-secret-value-0123456789"
	v, err := NewHMAC("X-Sig", "", secret)
	require.NoError(t, err)
	r, err := NewReceiver(Spec[any]{Provider: "p", Verifier: v,
		Parse:  func(ev *Event) (any, error) { ev.ID = "x"; return nil, nil },
		Handle: func(context.Context, *Event, any, Once) error { return nil }})
	require.NoError(t, err)
	cfg, err := NewConfig(WithLogger(nil))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, r), secret, verb+" of *Receiver")
		assert.NotContains(t, fmt.Sprintf(verb, r), "keys", verb+" of *Receiver")
		assert.NotContains(t, fmt.Sprintf(verb, cfg), secret, verb+" of *Config")
	}
}
