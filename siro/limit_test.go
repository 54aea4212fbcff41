package siro_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type countLimiter struct{ n atomic.Int32 }

func (l *countLimiter) Wait(ctx context.Context) error { l.n.Add(1); return ctx.Err() }

// TestLimiterPacesEveryRequest: not only the bulk sync, every org API
// request (token minting included) waits on WithLimiter, every user API
// request on WithUserLimiter.
func TestLimiterPacesEveryRequest(t *testing.T) {
	fake := sirotest.New()
	defer fake.Close()
	id, secret := fake.CreateOAuthApp()
	org, user := &countLimiter{}, &countLimiter{}
	c, err := fake.Client(siro.WithLimiter(org), siro.WithUserLimiter(user), siro.WithOAuthApp(id, secret, "u1", siro.ScopeWrite))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.CallerIdentity(ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(1), org.n.Load())
	_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "e1"})
	require.NoError(t, err)
	assert.Equal(t, int32(2), org.n.Load())
	_, err = c.GetRecordingDetails(ctx, "rec_missing", nil)
	assert.ErrorIs(t, err, siro.ErrNotFound)
	assert.Greater(t, org.n.Load(), int32(2), "the token mint went through the org limiter")
	assert.Equal(t, int32(1), user.n.Load())
	assert.Equal(t, fake.RequestCount(), int64(org.n.Load()+user.n.Load()), "one wait per request sent")
	_, err = fake.Client(siro.WithUserLimiter(nil))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)
}
