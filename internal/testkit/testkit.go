// Package testkit holds the test support the vendor packages' tests share:
// a fake clock driver, an in-memory secret source, a client observer that
// records what it is told, a server that fails once, and the checks every
// vendor runs the same way (secrets never printed, a stored delivery
// verifies again).
//
// It knows no vendor: every vendor fact (a constructor, a sender, a
// verifier, a secret) is passed in by the calling test. Only _test.go files
// import it.
package testkit

import "testing"

// ReportFirst fails t with each of msgs prefixed by what, up to 20 of
// them and then a count of the rest, so one wrong answer repeated 10,000
// times stays readable.
func ReportFirst(t testing.TB, what string, msgs []string) {
	t.Helper()
	for i, msg := range msgs {
		if i == 20 {
			t.Errorf("... and %d more", len(msgs)-i)
			return
		}
		t.Errorf("%s: %s", what, msg)
	}
}
