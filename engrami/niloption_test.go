package engrami_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// A nil option is bad input: an error naming it, never a panic.
func TestConstructorsNilOption(t *testing.T) {
	_, err := engrami.NewClient(engrami.WithToken("tok"), nil)
	testkit.CheckInvalidOption(t, "NewClient", err, engrami.ErrInvalidOption, "option 1 is nil")
	_, err = engrami.NewSender("https://engrami.example/hook", "whsec_c2VjcmV0", nil)
	testkit.CheckInvalidOption(t, "NewSender", err, engrami.ErrInvalidOption, "option 0 is nil")
}
