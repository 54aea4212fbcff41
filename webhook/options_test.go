package webhook

import (
	"reflect"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionSetsAreSplit: a receiver option (WithInbox, WithDedupe) is not
// a VerifierOption, so NewStandard(secrets, WithInbox(in)) does not
// compile; asserted with the assignability rule the compiler applies.
func TestOptionSetsAreSplit(t *testing.T) {
	receiver, verifier := reflect.TypeOf(WithInbox(nil)), reflect.TypeOf(WithSignatureClock(nil))
	assert.False(t, receiver.AssignableTo(verifier), "an Option is not a VerifierOption")
	assert.False(t, verifier.AssignableTo(receiver), "a VerifierOption is not an Option")
	for _, o := range []VerifierOption{WithSignatureTolerance(0), WithSignatureClock(nil)} {
		_, err := NewStandard([]string{kaSecret}, o)
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithSignature")
	}
}

// TestVerifierOptionsCarryTheReceiversSettings: a vendor building its
// Standard verifier from its receiver's options gets their tolerance,
// clock and skip, and nothing else.
func TestVerifierOptionsCarryTheReceiversSettings(t *testing.T) {
	fake := clock.NewFake(kaTime().Add(time.Hour))
	assert.Empty(t, VerifierOptions(WithLogger(nil), WithTimeout(time.Second), nil))
	v, err := NewStandard([]string{kaSecret}, VerifierOptions(WithTimeout(time.Second), WithClock(fake), WithTolerance(2*time.Hour))...)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, v.tolerance)
	assert.Equal(t, Clock(fake), v.clock)
	v, err = NewStandard([]string{kaSecret}, VerifierOptions(InsecureSkipTimestampCheck())...)
	require.NoError(t, err)
	assert.True(t, v.skipTime)
	assert.Equal(t, DefaultTolerance, v.tolerance)
}
