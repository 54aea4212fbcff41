package callsync_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on CallSync's receiver, as callsynctest.Subject
// describes it.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, "callsync-conformance-secret", callsynctest.Subject)
}
