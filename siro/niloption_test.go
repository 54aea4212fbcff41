package siro_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
)

// A nil option is bad input: an error naming it, never a panic.
func TestNewClientNilOption(t *testing.T) {
	_, err := siro.NewClient(siro.WithOrgToken("tok"), nil)
	if !errors.Is(err, siro.ErrInvalidOption) || !strings.Contains(err.Error(), "option 1 is nil") {
		t.Fatalf("err = %v, want ErrInvalidOption naming option 1", err)
	}
}
