package sivo_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on SIVO's receiver, as sivotest.Subject
// describes it.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, "sivo-conformance-secret", sivotest.Subject)
}
