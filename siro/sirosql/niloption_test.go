package sirosql

import (
	"database/sql"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
)

// A nil option is bad input: an error naming it, never a panic. The
// constructors do not touch the database, so no server is needed.
func TestConstructorsNilOption(t *testing.T) {
	_, err := NewLimiter(&sql.DB{}, "b", 900, nil)
	testkit.CheckInvalidOption(t, "NewLimiter", err, siro.ErrInvalidOption, "option 0 is nil")
	_, err = NewCheckpoint(&sql.DB{}, "j", nil)
	testkit.CheckInvalidOption(t, "NewCheckpoint", err, siro.ErrInvalidOption, "option 0 is nil")
}
