package sirosql

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
)

// A nil option is bad input: an error naming it, never a panic. The
// constructors do not touch the database, so no server is needed.
func TestConstructorsNilOption(t *testing.T) {
	_, err := NewLimiter(&sql.DB{}, "b", 900, nil)
	if !errors.Is(err, siro.ErrInvalidOption) || !strings.Contains(err.Error(), "option 0 is nil") {
		t.Errorf("NewLimiter: err = %v", err)
	}
	_, err = NewCheckpoint(&sql.DB{}, "j", nil)
	if !errors.Is(err, siro.ErrInvalidOption) || !strings.Contains(err.Error(), "option 0 is nil") {
		t.Errorf("NewCheckpoint: err = %v", err)
	}
}
