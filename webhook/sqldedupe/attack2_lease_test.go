package sqldedupe

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttack2CommitAfterLapse: a replica whose lease lapsed while its
// callback still ran (a pause, a slow database) finishes and commits.
// Its success is recorded exactly when nobody else holds the key: when
// nobody took it, when the replica that took it released it (its run
// failed), or when Cleanup removed the lapsed row; never over another
// replica's live reservation (that one commits its own run) nor over a
// commit. A stale release or extend never touches another's row.
func TestAttack2CommitAfterLapse(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", func(t *testing.T, b sqldbtest.Backend) {
		ctx := context.Background()
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		a := newStore(t, b.Open(t), WithClock(fake), WithLease(time.Minute), WithTTL(time.Hour))
		other := &Store{}
		*other = *a
		other.db = b.Open(t) // another replica, its own connections
		followClock(fake, a, other)
		lapse := func() { fake.Advance(time.Minute + time.Second) }
		dup := func(key string) {
			t.Helper()
			_, err := other.Reserve(ctx, key)
			assert.ErrorIs(t, err, webhook.ErrDuplicate, "%s is committed", key)
		}

		// Nobody took it: the late commit lands.
		r, err := a.Reserve(ctx, "nobody")
		require.NoError(t, err)
		lapse()
		require.NoError(t, a.Commit(ctx, r))
		dup("nobody")

		// Another replica took it and still runs: not ours to commit; its
		// own commit lands; the stale release and extend change nothing.
		r, err = a.Reserve(ctx, "taken")
		require.NoError(t, err)
		lapse()
		live, err := other.Reserve(ctx, "taken")
		require.NoError(t, err)
		assert.ErrorIs(t, a.Commit(ctx, r), webhook.ErrNotOwner)
		assert.ErrorIs(t, a.Release(ctx, r), webhook.ErrNotOwner)
		_, err = a.Extend(ctx, r)
		assert.ErrorIs(t, err, webhook.ErrNotOwner)
		_, err = a.Reserve(ctx, "taken")
		assert.ErrorIs(t, err, webhook.ErrInProgress, "the taker's reservation is live")
		require.NoError(t, other.Commit(ctx, live))
		dup("taken")
		assert.ErrorIs(t, a.Commit(ctx, r), webhook.ErrNotOwner, "never over a commit")

		// The taker's run failed and it released: the stale run's success
		// is recorded (no third run on the vendor's retry).
		r, err = a.Reserve(ctx, "released")
		require.NoError(t, err)
		lapse()
		live, err = other.Reserve(ctx, "released")
		require.NoError(t, err)
		require.NoError(t, other.Release(ctx, live))
		require.NoError(t, a.Commit(ctx, r))
		dup("released")

		// The taker's lease lapsed too (it died): the stale owner's commit
		// lands over a lapsed reservation.
		r, err = a.Reserve(ctx, "both_lapsed")
		require.NoError(t, err)
		lapse()
		live, err = other.Reserve(ctx, "both_lapsed")
		require.NoError(t, err)
		lapse()
		require.NoError(t, a.Commit(ctx, r))
		assert.ErrorIs(t, other.Commit(ctx, live), webhook.ErrNotOwner, "the dead taker cannot commit over it")
		dup("both_lapsed")

		// Cleanup removed the lapsed row: the late commit lands.
		r, err = a.Reserve(ctx, "cleaned")
		require.NoError(t, err)
		lapse()
		n, err := other.Cleanup(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "only the lapsed reservation is cleaned")
		require.NoError(t, a.Commit(ctx, r))
		dup("cleaned")
	})
}

// TestAttack2ExtendKeepsALongCallbackExclusive: a reservation renewed
// more often than its lease is never taken, however long the callback
// runs (ten leases here), and stays held a full lease after the last
// renewal.
func TestAttack2ExtendKeepsALongCallbackExclusive(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", func(t *testing.T, b sqldbtest.Backend) {
		ctx := context.Background()
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		a := newStore(t, b.Open(t), WithClock(fake), WithLease(time.Minute))
		other := &Store{}
		*other = *a
		followClock(fake, a, other)
		r, err := a.Reserve(ctx, "long")
		require.NoError(t, err)
		for range 30 {
			fake.Advance(20 * time.Second)
			r, err = a.Extend(ctx, r)
			require.NoError(t, err)
			_, err = other.Reserve(ctx, "long")
			require.ErrorIs(t, err, webhook.ErrInProgress)
		}
		fake.Advance(59 * time.Second)
		_, err = other.Reserve(ctx, "long")
		require.ErrorIs(t, err, webhook.ErrInProgress, "held until a full lease after the last renewal")
		require.NoError(t, a.Commit(ctx, r))
		_, err = other.Reserve(ctx, "long")
		assert.ErrorIs(t, err, webhook.ErrDuplicate)
	})
}
