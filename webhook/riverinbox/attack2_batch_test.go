package riverinbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockWrites blocks every insert into the inbox's tables until the
// returned func is called: a transaction holding River's job table
// (PostgreSQL) or the database's write lock (SQLite).
func lockWrites(t *testing.T, db *testDB) (unlock func()) {
	ctx := context.Background()
	switch {
	case db.pool != nil && db.kind == kindPgx:
		tx, err := db.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, db.sql("LOCK TABLE %sriver_job IN EXCLUSIVE MODE"))
		require.NoError(t, err)
		return func() { require.NoError(t, tx.Rollback(ctx)) }
	case db.kind == kindSQLPG:
		tx, err := db.sqldb.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, db.sql("LOCK TABLE %sriver_job IN EXCLUSIVE MODE"))
		require.NoError(t, err)
		return func() { require.NoError(t, tx.Rollback()) }
	default:
		tx, err := db.sqldb.BeginTx(ctx, nil) // IMMEDIATE (SQLiteDSN): takes the write lock
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "UPDATE river_job SET id = id WHERE 0")
		require.NoError(t, err)
		return func() { require.NoError(t, tx.Rollback()) }
	}
}

// TestAttack2CancelledWhileCommitting: the store timeout ends while the
// delivery's batch waits on the database. The receiver must not
// acknowledge it (503: the vendor retries); the batch still commits it
// once the database lets go, so the vendor's retry finds it stored (2xx,
// a duplicate: nothing stored twice), and the callback runs once.
func TestAttack2CancelledWhileCommitting(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		in := db.newInbox(t)
		got := make(chan string, 4)
		h := newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID); err != nil {
				return err
			}
			got <- ev.ID
			return nil
		}}, webhook.WithStoreTimeout(200*time.Millisecond))
		s, _ := sivotest.NewSender(testSecret)
		body := sivoEvent(t, "evt_cancelled_commit")
		unlock := lockWrites(t, db)
		assert.Equal(t, 503, s.Serve(h, body), "not acknowledged while its batch has not committed")
		unlock()
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind)
			return err == nil && n == 1
		}, "the batch commits once the database lets go")
		assert.Equal(t, 200, s.Serve(h, body), "the vendor's retry: already stored")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind), "stored once")
		startInbox(t, in)
		select {
		case id := <-got:
			assert.Equal(t, "evt_cancelled_commit", id)
		case <-time.After(20 * time.Second):
			t.Fatal("not processed")
		}
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 1
		}, "completed")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'evt_cancelled_commit'"))
	})
}

// TestAttack2LargeBodiesShareABatch: deliveries at the receivers' body
// limit (1 MiB of arbitrary bytes), stored concurrently (so in shared
// batches) with copies of some of them, come back byte for byte, one
// job each.
func TestAttack2LargeBodiesShareABatch(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t)
		require.NoError(t, in.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
		n := 6
		if raceEnabled {
			n = 3 // base64 of megabytes is slow under the race detector
		}
		bodies := make([][]byte, n)
		for i := range bodies {
			bodies[i] = make([]byte, 1<<20)
			_, _ = rand.Read(bodies[i])
		}
		var wg sync.WaitGroup
		errs := make([]error, 2*n)
		for i := range 2 * n { // each body twice, concurrently
			wg.Go(func() {
				errs[i] = in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: fmt.Sprintf("big_%d", i%n), Raw: bodies[i%n]})
			})
		}
		wg.Wait()
		for i := range n {
			a, b := errs[i], errs[i+n]
			ok := (a == nil && errors.Is(b, webhook.ErrDuplicate)) || (b == nil && errors.Is(a, webhook.ErrDuplicate))
			assert.True(t, ok, "big_%d: one stored, one duplicate: %v / %v", i, a, b)
		}
		stored := storedArgs(t, db)
		require.Len(t, stored, n)
		for _, a := range stored {
			var i int
			_, err := fmt.Sscanf(a.ID, "big_%d", &i)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(bodies[i], a.Raw), "%s comes back byte for byte", a.ID)
		}
	})
}

// TestAttack2StoreTimeoutBoundsEnqueue: WithStoreTimeout bounds every
// dedupe store and inbox call (README: 503 + Retry-After when the inbox
// is slower than it). With the default in-memory dedupe the receiver
// skipped the timeout for the inbox too (the in-memory store never
// blocks, a database inbox does): a delivery whose batch waited on the
// database held the request for the batch's own 15 s limit (SQLite: the
// 10 s busy timeout), past most vendors' timeouts, instead of 503 at
// the store timeout.
func TestAttack2StoreTimeoutBoundsEnqueue(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		in := db.newInbox(t)
		h := newSivoHandler(t, in, sivo.Callbacks{}, webhook.WithStoreTimeout(200*time.Millisecond))
		s, _ := sivotest.NewSender(testSecret)
		unlock := lockWrites(t, db)
		defer unlock()
		t0 := time.Now()
		code := s.Serve(h, sivoEvent(t, "evt_slow_store"))
		took := time.Since(t0)
		assert.Equal(t, 503, code)
		assert.Less(t, took, 3*time.Second, "answered at the store timeout (200 ms), not when the database let go")
	})
}
