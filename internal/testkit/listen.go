package testkit

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// Listen returns a loopback listener on a free port; it fails t when none
// can be opened.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// CheckClosed fails t for each of ls that still accepts a connection.
func CheckClosed(t testing.TB, ls ...net.Listener) {
	t.Helper()
	for _, l := range ls {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Close", l.Addr())
		}
	}
}

// CheckInvalidOption fails t unless err matches sentinel and its text
// contains want (an option's name, "option 1 is nil"); what names the
// call in the message.
func CheckInvalidOption(t testing.TB, what string, err, sentinel error, want string) {
	t.Helper()
	if !errors.Is(err, sentinel) || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: err = %v, want %v naming %q", what, err, sentinel, want)
	}
}
