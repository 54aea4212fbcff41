package riverinbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo/sivotest"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttack2QueuesKeepTheirOwnDeliveries: two inboxes on one database
// with their own queues (WithQueue) are two inboxes: DeadLetters, Counts,
// Retry and Discard each see only their own queue. The same delivery
// stored in both (two services subscribed to one vendor account, both
// with the default receiver name) must be stored and processed by each.
// River's ByArgs uniqueness ignores the queue unless ByQueue is set, so
// the second inbox's Enqueue was answered as a duplicate of the first
// inbox's job (2xx: acknowledged, never processed by the second
// service), and the processed table, keyed without the queue, would
// roll the second inbox's Tx writes back even if its job were stored.
func TestAttack2QueuesKeepTheirOwnDeliveries(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		var mu sync.Mutex
		seen := map[string]int{}
		done := make(chan string, 4)
		mk := func(queue string) inboxAPI {
			in := db.newInbox(t, WithQueue(queue))
			require.NoError(t, in.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
				if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", queue+":"+ev.ID); err != nil {
					return err
				}
				mu.Lock()
				seen[queue]++
				mu.Unlock()
				done <- queue
				return nil
			}))
			return in
		}
		a, b := mk("queue_a"), mk("queue_b")
		ev := func() *webhook.Event {
			return &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_shared", Raw: []byte(`{}`)}
		}
		require.NoError(t, a.Enqueue(ctx, ev()))
		require.NoError(t, b.Enqueue(ctx, ev()), "queue b's own delivery is stored, not a duplicate of queue a's")
		assert.ErrorIs(t, b.Enqueue(ctx, ev()), webhook.ErrDuplicate, "within one queue it stays unique")
		cb, err := b.Counts(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), cb.Pending, "queue b counts its delivery")
		startInbox(t, a)
		startInbox(t, b)
		for range 2 {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("not processed by both inboxes: %v", seen)
			}
		}
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 2
		}, "both jobs complete")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'queue_a:evt_shared'"))
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'queue_b:evt_shared'"), "queue b's Tx write committed")
	})
}

// TestAttack2PanicAfterTxRollsItBack: a process func registered on the
// inbox (Register is the public webhook.Inbox API; receivers recover
// their callbacks' panics, a function registered directly does not)
// that panics after beginning Tx must not leave the transaction open.
// It was never rolled back: Work re-panicked before reaching the code
// that ends it. With pgx (NewPgx) its connection stayed checked out of the
// pool for good, holding its locks, and the delivery's retry, writing the
// same row, blocked on the leaked transaction until its job timeout, on
// every attempt: the delivery was never processed. (database/sql rolls a
// transaction back when its context ends, so NewSQL and NewSQLite
// recovered when River cancelled the job's context.)
func TestAttack2PanicAfterTxRollsItBack(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		db.exec(t, "CREATE TABLE %sonce_rows (id TEXT PRIMARY KEY)")
		db = ownPools(t, db)
		in := db.newInbox(t, WithJobTimeout(5*time.Second))
		var calls atomic.Int32
		require.NoError(t, in.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
			if err := txExec(ctx, db, "INSERT INTO %sonce_rows (id) VALUES ($1)", ev.ID); err != nil {
				return err
			}
			if calls.Add(1) == 1 {
				panic("boom after writing through Tx")
			}
			return nil
		}))
		require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_panic", Raw: []byte(`{}`)}))
		startInbox(t, in)
		waitFor(t, 20*time.Second, func() bool { return calls.Load() >= 1 }, "the first attempt runs")
		// The database is usable by others right after the panic.
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		assert.NoError(t, in.Enqueue(sctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_after", Raw: []byte(`{}`)}),
			"a delivery arriving after the panic is stored")
		waitFor(t, 20*time.Second, func() bool {
			n, err := countWithin(db, time.Second, "SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 2
		}, "the panicked delivery's retry completes")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sonce_rows WHERE id = 'evt_panic'"))
	})
}

// TestAttack2RetriedDeadLetterGetsItsAttemptsBack: Retry is documented
// as making the dead letter available "with its attempts reset". River's
// JobRetry only adds one attempt (max_attempts + 1 when it was
// exhausted), so a retried dead letter whose first new attempt fails
// (the CRM still flapping) was dead again at once, without a single
// backoff retry.
func TestAttack2RetriedDeadLetterGetsItsAttemptsBack(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t, WithMaxAttempts(2))
		var failures atomic.Int32
		failures.Store(3) // two to dead-letter it, one more after Retry
		var processed atomic.Int32
		require.NoError(t, in.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
			if failures.Add(-1) >= 0 {
				return errors.New("CRM flapping")
			}
			if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID); err != nil {
				return err
			}
			processed.Add(1)
			return nil
		}))
		require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_flap", Raw: []byte(`{}`)}))
		startInbox(t, in)
		var id int64
		waitFor(t, 20*time.Second, func() bool {
			for d, err := range in.DeadLetters(ctx, Filter{}) {
				if err == nil {
					id = d.JobID
				}
			}
			return id != 0
		}, "dead-lettered after two attempts")
		require.NoError(t, in.Retry(ctx, id))
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 1
		}, "the retried dead letter is retried after a failure, and completes")
		assert.Equal(t, int32(1), processed.Load())
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'evt_flap'"))
		c, err := in.Counts(ctx)
		require.NoError(t, err)
		assert.Zero(t, c.Dead)
	})
}

// countWithin is db.countErr bounded by d: a leaked transaction must fail
// the test, not hang it.
func countWithin(db *testDB, d time.Duration, q string, args ...any) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n int
	if db.pool != nil {
		err := db.pool.QueryRow(ctx, db.sql(q), args...).Scan(&n)
		return n, err
	}
	err := db.sqldb.QueryRowContext(ctx, db.sql(q), args...).Scan(&n)
	return n, err
}

// ownPools returns db with PostgreSQL pools of its own, tagged with an
// application name: a test that leaks a transaction is then cleaned up
// by terminating its backends instead of hanging in pool.Close (which
// waits for every acquired connection).
func ownPools(t *testing.T, db *testDB) *testDB {
	if db.kind == kindSQLite {
		return db
	}
	const app = "riverinbox_attack2_leak"
	cp := *db
	cfg, err := pgxpool.ParseConfig(db.dsn)
	require.NoError(t, err)
	cfg.MaxConns = 20
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	cp.pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	if db.kind == kindSQLPG {
		cp.sqldb = stdlib.OpenDB(*cfg.ConnConfig.Copy())
		cp.sqldb.SetMaxOpenConns(20)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = db.pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app)
		if t.Failed() {
			return // a leaked connection would make Close wait forever
		}
		cp.pool.Close()
		if cp.sqldb != nil {
			_ = cp.sqldb.Close()
		}
	})
	return &cp
}

// The inbox's retry policy is River's default for every job whose
// attempts and errors agree, and starts again at about a second for a
// retried dead letter (attempts reset, errors kept).
func TestAttack2RetryPolicyCountsAttempts(t *testing.T) {
	p := &attemptRetryPolicy{}
	errs := func(n int) []rivertype.AttemptError { return make([]rivertype.AttemptError, n) }
	within := func(job *rivertype.JobRow, base time.Duration) {
		t.Helper()
		d := time.Until(p.NextRetry(job))
		assert.InDelta(t, base.Seconds(), d.Seconds(), base.Seconds()*0.1+0.5, "attempt %d, %d errors", job.Attempt, len(job.Errors))
	}
	within(&rivertype.JobRow{Attempt: 1}, time.Second)
	within(&rivertype.JobRow{Attempt: 3, Errors: errs(2)}, 81*time.Second)
	within(&rivertype.JobRow{Attempt: 1, Errors: errs(25)}, time.Second)
	within(&rivertype.JobRow{Attempt: 2, Errors: errs(25)}, 16*time.Second)
	assert.True(t, p.NextRetry(&rivertype.JobRow{Attempt: 1 << 10, Errors: errs(1 << 10)}).After(time.Now().Add(100*365*24*time.Hour)), "capped, not overflowed")
}

// TestAttack2StoppedInboxStillStores: shutdown in the wrong order (the
// inbox stopped while its receiver still answers). A delivery the
// receiver acknowledges after Stop is stored, and another replica's
// workers process it once.
func TestAttack2StoppedInboxStillStores(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a := db.newInbox(t)
		ha := newSivoHandler(t, a, recordingCallbacks(db, true, nil))
		require.NoError(t, a.Start(ctx))
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(stopCtx))
		s, _ := sivotest.NewSender(testSecret)
		body := sivoEvent(t, "evt_after_stop")
		require.Equal(t, 200, s.Serve(ha, body), "acknowledged after Stop")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind), "so it is stored")

		b := db.newInbox(t)
		newSivoHandler(t, b, recordingCallbacks(db, true, nil))
		startInbox(t, b)
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 1
		}, "another replica processes it")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'evt_after_stop'"))
		assert.Equal(t, 200, s.Serve(ha, body), "a redelivery is a duplicate")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind))
	})
}
