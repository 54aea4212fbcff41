package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the quickstart to completion and checks what it says.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, func(string) string { return "" }))
	s := out.String()
	for _, want := range []string{
		"opportunity opp-101 -> Siro id",
		"engagement appt-456 -> Siro id",
		"deliveries: recordingLinked 200, recordingProcessed 200, redelivery 200",
		"CRM write-back -> engagement appt-456",
		"CRM write-back -> opportunity opp-101",
		`summary: "Overview: Homeowners want quartz counters`,
		"field Budget = 45000 -> Opportunity.Amount",
		"field Decision timeline = within 2 weeks -> Opportunity.Close_Timeline__c",
		"lookup: 200 Sally Sample (account Sample Residence)",
		"lookup of an unknown number: 404",
		"symbo: call:completed for prospect 12345 (Sally Sample), disposition \"answered_positive\", unparsed timestamps [created_at]",
		"callsync: call_logged call 88231, 124s, caller +919876543210, contact contact_9921 [high-value priority]",
		"sivo: call.ended call-7f3a +34611222333 -> +34911234567, 184s, MOS 4.3, NORMAL_CLEARING",
		"redelivery of evt_01H8XYZ: 200, acknowledged without running the callback again",
		"forged event refused: 401 Unauthorized",
		"all verified",
	} {
		assert.Contains(t, s, want)
	}
}

// TestQuickstartFailsClearly: a wrong Siro token (pointed at a fake that
// rejects it) makes run return an error naming the problem.
func TestQuickstartRealModeNeedsNetworkNotTaken(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"SIRO_ORG_TOKEN": "bad"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // never reach the network in tests
	err := run(ctx, &out, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "siro:")
}
