package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A nil option is bad input: an error naming it, never a panic.
func TestMemoryConstructorsNilOption(t *testing.T) {
	_, err := NewMemoryInbox(1, 1, nil)
	if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), "NewMemoryInbox: option 0 is nil") {
		t.Errorf("NewMemoryInbox: err = %v", err)
	}
	_, err = NewMemoryDedupe(time.Hour, WithMaxEntries(10), nil)
	if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), "NewMemoryDedupe: option 1 is nil") {
		t.Errorf("NewMemoryDedupe: err = %v", err)
	}
}
