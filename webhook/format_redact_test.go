package webhook

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type secretExtKey struct{}

// A receiver built from an option list that carries a credential in a
// vendor extension (a shared option list with symbo.WithLookupToken, say)
// must not print it under any verb, nor its verifier's key states.
func TestReceiverAndConfigFormatHideExtensions(t *testing.T) {
	const secret = "extension-credential-0123456789"
	v, err := NewHMAC("X-Sig", "", "hmac-secret-value")
	require.NoError(t, err)
	r, err := NewReceiver(Spec{Provider: "p", Verifier: v, Extensions: []any{secretExtKey{}},
		Parse:  func(ev *Event) (any, error) { ev.ID = "x"; return nil, nil },
		Handle: func(context.Context, *Event, any, Once) error { return nil }},
		WithExtension(secretExtKey{}, secret))
	require.NoError(t, err)
	cfg, err := NewConfig(WithExtension(secretExtKey{}, secret))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, r), secret, verb+" of *Receiver")
		assert.NotContains(t, fmt.Sprintf(verb, r), "keys", verb+" of *Receiver")
		assert.NotContains(t, fmt.Sprintf(verb, cfg), secret, verb+" of *Config")
	}
}
