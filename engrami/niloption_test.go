package engrami_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
)

// A nil option is bad input: an error naming it, never a panic.
func TestConstructorsNilOption(t *testing.T) {
	_, err := engrami.NewClient(engrami.WithToken("tok"), nil)
	if !errors.Is(err, engrami.ErrInvalidOption) || !strings.Contains(err.Error(), "option 1 is nil") {
		t.Errorf("NewClient: err = %v, want ErrInvalidOption naming option 1", err)
	}
	_, err = engrami.NewSender("https://engrami.example/hook", "whsec_c2VjcmV0", nil)
	if !errors.Is(err, engrami.ErrInvalidOption) || !strings.Contains(err.Error(), "option 0 is nil") {
		t.Errorf("NewSender: err = %v, want ErrInvalidOption naming option 0", err)
	}
}
