package errtext

import (
	"errors"
	"testing"
)

type nilCause struct{ cause error }

func (e *nilCause) Error() string { return "wrapped: " + e.cause.Error() }

func TestOf(t *testing.T) {
	if got := Of(errors.New("crm down")); got != "crm down" {
		t.Errorf("Of(plain) = %q", got)
	}
	if got, want := Of(&nilCause{}), "*errtext.nilCause (its Error method panicked)"; got != want {
		t.Errorf("Of(panicking) = %q, want %q", got, want)
	}
}
