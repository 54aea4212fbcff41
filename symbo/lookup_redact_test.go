package symbo

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lookup token is a bearer credential for contact PII: printing the
// handler (a debug log of the mux, a %+v in a panic message) must not
// reveal it.
func TestLookupHandlerFormatHidesToken(t *testing.T) {
	const token = "lookup-token-0123456789abcdef"
	h, err := NewLookupHandler([]string{"symbo-webhook-secret"}, func(context.Context, string) (*Contact, error) { return nil, ErrNoContact },
		WithLookupToken(token))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assert.NotContains(t, fmt.Sprintf(verb, h), token, verb+" of *LookupHandler")
		assert.NotContains(t, fmt.Sprintf(verb, *h), token, verb+" of LookupHandler")
	}
}
