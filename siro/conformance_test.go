package siro_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on Siro's receiver, as sirotest.Subject
// describes it.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, "whsec_Y29uZm9ybWFuY2Utc2lyby1zZWNyZXQtMDEyMzQ1Ng==", sirotest.Subject)
}
