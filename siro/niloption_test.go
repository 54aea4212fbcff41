package siro_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
)

// A nil option is bad input: an error naming it, never a panic.
func TestNewClientNilOption(t *testing.T) {
	_, err := siro.NewClient(siro.WithOrgToken("tok"), nil)
	testkit.CheckInvalidOption(t, "NewClient", err, siro.ErrInvalidOption, "option 1 is nil")
}
