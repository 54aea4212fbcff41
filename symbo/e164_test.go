package symbo_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseE164AcceptsSevenDigitNumbers: E.164 numbers with short
// subscriber numbers (Niue, Tokelau) have 7 digits after "+"; 6 is too
// few.
func TestParseE164AcceptsSevenDigitNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"+6834002":   "+6834002", // Niue
		"+690 3456":  "+6903456", // Tokelau
		" 6834002":   "+6834002", // "+" decoded as a space
		"006834002":  "+6834002",
		"+683-4002 ": "+6834002",
	} {
		got, err := symbo.ParseE164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	assert.True(t, symbo.IsE164("+6834002"))
	_, err := symbo.ParseE164("+683400")
	assert.ErrorIs(t, err, symbo.ErrInvalidNumber, "6 digits")
	assert.ErrorContains(t, err, "7 to 15")
}
