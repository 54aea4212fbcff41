package sqldedupe

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/webhook"
)

// A nil option is bad input: an error naming it, never a panic. New does
// not touch the database, so no server is needed.
func TestNewNilOption(t *testing.T) {
	_, err := New(&sql.DB{}, WithTable("t"), nil)
	if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), "option 1 is nil") {
		t.Fatalf("err = %v, want ErrInvalidOption naming option 1", err)
	}
}
