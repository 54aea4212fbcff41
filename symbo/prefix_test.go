package symbo_test

import (
	"errors"
	"testing"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
)

// TestConstructorErrorPrefix: one prefix, the constructor named, a single
// empty secret called "secret", and the sentinel still matched.
func TestConstructorErrorPrefix(t *testing.T) {
	_, err := symbo.NewHandler([]string{""}, symbo.Callbacks{})
	if err == nil || err.Error() != "symbo: NewHandler: secret is empty" || !errors.Is(err, webhook.ErrInvalidSecret) {
		t.Fatalf("got %v", err)
	}
	_, err = symbo.Middleware([]string{"a-long-enough-secret", ""})
	if err == nil || err.Error() != "symbo: Middleware: secret 1 is empty" || !errors.Is(err, webhook.ErrInvalidSecret) {
		t.Fatalf("got %v", err)
	}
}
