package opterr

import (
	"errors"
	"testing"
	"time"
)

var errSentinel = errors.New("invalid option")

type box struct {
	d time.Duration
	p *int
}

// Positive and NotNil set the value when it is valid and otherwise fail
// matching the sentinel, naming package, option and value, and set nothing.
func TestPositiveAndNotNil(t *testing.T) {
	for _, tc := range []struct {
		opt  func(*box) error
		want string // "" sets
	}{
		{Positive("pkg", "WithLease", errSentinel, "lease", time.Second, func(b *box) { b.d = time.Second }), ""},
		{Positive("pkg", "WithLease", errSentinel, "lease", time.Duration(0), func(b *box) { b.d = 1 }), "pkg: WithLease: lease 0s must be positive"},
		{Positive("pkg", "WithBatch", errSentinel, "batch", -3, func(b *box) { b.d = 1 }), "pkg: WithBatch: batch -3 must be positive"},
		{NotNil("pkg", "WithP", errSentinel, "p", false, func(b *box) { b.p = new(int) }), ""},
		{NotNil("pkg", "WithP", errSentinel, "p", true, func(b *box) { b.p = new(int) }), "pkg: WithP: p is nil"},
	} {
		var b box
		err := tc.opt(&b)
		if tc.want == "" {
			if err != nil || (b.d == 0 && b.p == nil) {
				t.Errorf("valid value: err %v, box %+v", err, b)
			}
			continue
		}
		if !errors.Is(err, errSentinel) || err.Error() != tc.want {
			t.Errorf("err = %v, want %q matching the sentinel", err, tc.want)
		}
		if b.d != 0 || b.p != nil {
			t.Errorf("%q: the option set %+v", tc.want, b)
		}
	}
}
