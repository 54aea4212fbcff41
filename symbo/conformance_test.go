package symbo_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on Symbo's receiver, as symbotest.Subject
// describes it.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, "symbo-conformance-secret", symbotest.Subject)
}
