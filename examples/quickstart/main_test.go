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
	require.NoError(t, run(context.Background(), &out))
	s := out.String()
	for _, want := range []string{
		"lookup: 200 Sally Sample (account Sample Residence)",
		"lookup of an unknown number: 404",
		"symbo: call:created for prospect 12345 (Sally Sample), disposition \"answered_positive\", unparsed timestamps [created_at]",
		"callsync: call_logged call 88231, 124s, caller +919876543210, contact contact_9921 [high-value priority]",
		"sivo: call.ended call-7f3a +34611222333 -> +34911234567, 184s, MOS 4.3, NORMAL_CLEARING",
		"redelivery of evt_01H8XYZ: 200, acknowledged without running the callback again",
		"forged event refused: 401 Unauthorized",
		"all verified",
	} {
		assert.Contains(t, s, want)
	}
}
