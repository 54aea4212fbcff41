package sirotest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScheduleIsNotPackageState: sirotest.Schedule is for reading, as
// sivotest.Schedule is. A test that changes it (to try a shorter retry
// chain, say) must not change the Sender every later test builds.
func TestScheduleIsNotPackageState(t *testing.T) {
	svix := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	saved := slices.Clone(sirotest.Schedule)
	t.Cleanup(func() { sirotest.Schedule = saved })
	sirotest.Schedule[1] = time.Hour
	sirotest.Schedule = sirotest.Schedule[:2]

	snd, err := sirotest.NewSender("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	assert.Equal(t, svix, snd.Schedule(), "NewSender replays Svix's schedule whatever a test did to Schedule")
	fake := sirotest.New()
	defer fake.Close()
	assert.Equal(t, svix, fake.Sender().Schedule(), "Server.Sender replays Svix's schedule whatever a test did to Schedule")
}
