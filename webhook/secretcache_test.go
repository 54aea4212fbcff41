package webhook

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretCache: answers are reused for the TTL (one source call for
// many deliveries); a removed secret stops verifying at the TTL, or at
// once after Invalidate; failures and unknown tenants are never cached;
// no secret is printed.
func TestSecretCache(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	src := &rotatingSource{secrets: map[string][]string{"a": {"old-secret", "new-secret"}}}
	cache, err := NewSecretCache(src, 30*time.Second, clk)
	require.NoError(t, err)
	c := &tally{runs: map[string]int{}}
	r, err := NewReceiver(engineSpec(t, c.handle), WithSecretSource(cache, FixedTenant("a")))
	require.NoError(t, err)
	for i := range 5 {
		assert.Equal(t, 200, serve(r, signed(t, "/", "old-secret", fmt.Sprint("o", i), []byte(`{}`))))
	}
	assert.Equal(t, 200, serve(r, signed(t, "/", "new-secret", "n0", []byte(`{}`))))
	assert.Equal(t, int64(1), src.calls.Load(), "one source call for six deliveries")

	src.set("a", "new-secret") // the old secret is removed at the source
	assert.Equal(t, 200, serve(r, signed(t, "/", "old-secret", "o9", []byte(`{}`))), "still cached: at most the TTL")
	clk.Advance(30 * time.Second)
	assert.Equal(t, 401, serve(r, signed(t, "/", "old-secret", "o10", []byte(`{}`))), "stops at the TTL")
	assert.Equal(t, 200, serve(r, signed(t, "/", "new-secret", "n1", []byte(`{}`))))

	src.set("a", "newest-secret")
	cache.Invalidate("a")
	assert.Equal(t, 401, serve(r, signed(t, "/", "new-secret", "n2", []byte(`{}`))), "stops at once after Invalidate")
	assert.Equal(t, 200, serve(r, signed(t, "/", "newest-secret", "n3", []byte(`{}`))))
	cache.InvalidateAll()
	before := src.calls.Load()
	assert.Equal(t, 200, serve(r, signed(t, "/", "newest-secret", "n4", []byte(`{}`))))
	assert.Equal(t, before+1, src.calls.Load(), "asked again after InvalidateAll")

	// Failures and unknown tenants are not cached.
	var fail bool
	flaky := SecretsFunc(func(context.Context, string) ([]string, error) {
		if fail {
			return nil, errors.New("db down")
		}
		return []string{"k-secret"}, nil
	})
	fc, err := NewSecretCache(flaky, time.Minute, clk)
	require.NoError(t, err)
	fail = true
	_, err = fc.Secrets(context.Background(), "a")
	require.Error(t, err)
	fail = false
	got, err := fc.Secrets(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, []string{"k-secret"}, got, "the failure was not cached")
	_, err = cache.Secrets(context.Background(), "nobody")
	assert.ErrorIs(t, err, ErrUnknownTenant)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, cache)
		for _, secret := range []string{"old-secret", "new-secret", "newest-secret"} {
			assert.NotContains(t, out, secret, verb)
		}
	}
	_, err = NewSecretCache(src, time.Hour, nil)
	assert.ErrorIs(t, err, ErrInvalidOption, "a TTL longer than MaxSecretCacheTTL")
	_, err = NewSecretCache(nil, time.Second, nil)
	assert.ErrorIs(t, err, ErrInvalidOption)
}
