package riverinbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor polls cond every 10 ms up to limit. Used only where the
// database changes state on River's own schedule (no event to wait on).
func waitFor(t testing.TB, limit time.Duration, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, limit, 10*time.Millisecond, msg)
}

// A replica paused mid-callback (SIGSTOP, a VM suspend) while its job is
// rescued and completed by another replica must not commit its stale
// transaction when it resumes: the delivery is written once through Tx.
// (Before the fix the resumed replica's JobCompleteTx returned the row
// unchanged without error and its write was committed a second time.)
func TestPausedReplicaWritesOnceThroughTx(t *testing.T) {
	for _, k := range allKinds {
		afterWrite := []bool{false}
		if k != kindSQLite { // on SQLite an open write transaction holds the only write lock
			afterWrite = append(afterWrite, true)
		}
		for _, after := range afterWrite {
			t.Run(fmt.Sprintf("%s/paused_after_write=%v", k, after), func(t *testing.T) { testPausedReplica(t, newTestDBKind(t, k), after) })
		}
	}
}

func testPausedReplica(t *testing.T, db *testDB, afterWrite bool) {
	ctx := context.Background()
	id := fmt.Sprintf("evt_paused_%v", afterWrite)
	paused, resume := make(chan struct{}), make(chan struct{})
	var resumeOnce sync.Once
	release := func() { resumeOnce.Do(func() { close(resume) }) }
	t.Cleanup(release)
	var first atomic.Bool
	pauseA := func() {
		if first.CompareAndSwap(false, true) { // only the first attempt pauses
			close(paused)
			<-resume
		}
	}
	a := db.newInbox(t)
	require.NoError(t, a.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
		if !afterWrite {
			pauseA()
		}
		if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID); err != nil {
			return err
		}
		if afterWrite {
			pauseA()
		}
		return nil
	}))
	require.NoError(t, a.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: id, Raw: []byte("{}")}))
	require.NoError(t, a.Start(ctx))
	<-paused
	// River's rescuer, as it runs on the leader once the job has been
	// running longer than the rescue delay: the job is available again.
	db.exec(t, "UPDATE %sriver_job SET state = 'available' WHERE kind = $1", Kind)
	b := db.newInbox(t)
	require.NoError(t, b.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
		return txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID)
	}))
	startInbox(t, b)
	waitFor(t, 20*time.Second, func() bool {
		n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
		if err != nil {
			t.Log(err)
		}
		return err == nil && n == 1
	}, "another attempt (replica B, or A's other worker) completes the rescued job")
	release() // replica A resumes
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, a.Stop(stopCtx), "A's callback returned")
	assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = $1", id), "written once through Tx")
}

// A signed delivery id or type holding a NUL (PostgreSQL refuses \u0000
// in jsonb: 22P05) or invalid UTF-8 is stored, deduplicated and handed to
// the callback exactly; never a 503 loop.
func TestNULInIDIsStored(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t)
		got := make(chan *webhook.Event, 4)
		require.NoError(t, in.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error { got <- ev; return nil }))
		ids := []string{"evt\x00nul", "evt\x00nul2", "evt\xffbad"}
		for _, id := range ids {
			require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: id, Type: "call.ended\x00", Raw: []byte(`{"a":1}`)}), "%q", id)
		}
		err := in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: ids[0], Raw: []byte("{}")})
		assert.ErrorIs(t, err, webhook.ErrDuplicate, "the exact id stays unique")
		assert.Equal(t, 3, db.count(t, "SELECT count(*) FROM %sriver_job"))
		startInbox(t, in)
		seen := map[string]bool{}
		for range ids {
			select {
			case ev := <-got:
				seen[ev.ID] = true
			case <-time.After(20 * time.Second):
				t.Fatal("not processed")
			}
		}
		for _, id := range ids {
			assert.True(t, seen[id], "callback got the exact id %q", id)
		}
	})
}

// A verified delivery whose stored body does not parse never heals: it is
// dead-lettered at its first attempt (cancelled), with its raw bytes and
// the parse error, and one log line says so.
func TestPoisonIsDeadLetteredAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		var logBuf webhooktest.LogBuffer
		in := db.newInbox(t, WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
		newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error {
			t.Error("callback ran for a body that does not parse")
			return nil
		}})
		raw := []byte(`{"event_type":"call.ended","data":` + "\x01garbage")
		require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_poison", Type: "call.ended", Raw: raw}))
		startInbox(t, in)
		var dead []DeadLetter
		waitFor(t, 20*time.Second, func() bool {
			dead = dead[:0]
			for d, err := range in.DeadLetters(ctx, Filter{}) {
				require.NoError(t, err)
				dead = append(dead, d)
			}
			return len(dead) == 1
		}, "dead-lettered")
		d := dead[0]
		assert.Equal(t, "cancelled", d.State)
		assert.Equal(t, 1, d.Attempts, "no retry")
		assert.True(t, bytes.Equal(raw, d.Raw), "raw bytes kept")
		require.NotEmpty(t, d.Errors)
		assert.Contains(t, d.Errors[len(d.Errors)-1], "malformed")
		assert.Equal(t, 1, strings.Count(logBuf.String(), "riverinbox:"), "one log line: %s", logBuf.String())
		assert.Contains(t, logBuf.String(), "dead-lettered")
		c, err := in.Counts(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), c.Dead)
	})
}

// The dead letter from code: list with filters, count, retry and discard;
// Retry is right when the vendor resent the delivery (a live second job)
// and when that resend's job was already processed and cleaned up.
func TestDeadLetters(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t, WithMaxAttempts(1))
		var fail atomic.Bool
		fail.Store(true)
		var mu sync.Mutex
		calls := map[string]int{}
		processed := make(chan string, 16)
		fn := func(ctx context.Context, ev *webhook.Event) error {
			if fail.Load() {
				return errors.New("CRM down")
			}
			mu.Lock()
			calls[ev.ID]++
			mu.Unlock()
			if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID); err != nil {
				return err
			}
			processed <- ev.ID
			return nil
		}
		require.NoError(t, in.Register("sivo/default", fn))
		require.NoError(t, in.Register("siro/default", fn))
		ev := func(provider, id, typ string) *webhook.Event {
			return &webhook.Event{Provider: provider, Receiver: "default", ID: id, Type: typ, Raw: []byte(`{}`)}
		}
		for _, e := range []*webhook.Event{ev("sivo", "e1", "call.ended"), ev("sivo", "e2", "call.ended"), ev("sivo", "e3", "call.started"), ev("siro", "e4", "transcript.ready")} {
			require.NoError(t, in.Enqueue(ctx, e))
		}
		startInbox(t, in)
		list := func(f Filter) map[string]int64 {
			out := map[string]int64{}
			for d, err := range in.DeadLetters(ctx, f) {
				require.NoError(t, err)
				out[d.ID] = d.JobID
			}
			return out
		}
		waitFor(t, 20*time.Second, func() bool { return len(list(Filter{})) == 4 }, "four dead letters")
		c, err := in.Counts(ctx)
		require.NoError(t, err)
		assert.Equal(t, Counts{Dead: 4}, c)
		assert.Len(t, list(Filter{Provider: "siro"}), 1)
		assert.Len(t, list(Filter{Type: "call.ended"}), 2)
		assert.Len(t, list(Filter{Receiver: "other"}), 0)
		assert.Len(t, list(Filter{Since: time.Now().Add(time.Hour)}), 0)
		assert.Len(t, list(Filter{Until: time.Now().Add(time.Hour)}), 4)
		dead := list(Filter{})
		fail.Store(false)
		wait := func(id string) {
			t.Helper()
			select {
			case got := <-processed:
				require.Equal(t, id, got)
			case <-time.After(20 * time.Second):
				t.Fatalf("%s not processed", id)
			}
		}

		// e1: the vendor resends it; the resend's job is live (completed).
		require.NoError(t, in.Enqueue(ctx, ev("sivo", "e1", "call.ended")), "a resend of a dead letter is stored")
		wait("e1")
		require.NoError(t, in.Retry(ctx, dead["e1"]), "no unique-constraint failure")
		_, still := list(Filter{})["e1"]
		assert.False(t, still, "the dead letter is resolved by the resend")

		// e2: the resend was processed and its job cleaned up since.
		require.NoError(t, in.Enqueue(ctx, ev("sivo", "e2", "call.ended")))
		wait("e2")
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')")
			return err == nil && n == 0
		}, "the resend's job is completed")
		db.exec(t, "DELETE FROM %sriver_job WHERE state = 'completed'") // River's cleaner, after WithRetention
		require.NoError(t, in.Retry(ctx, dead["e2"]))
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE id = $1 AND state = 'completed'", dead["e2"])
			return err == nil && n == 1
		}, "the retried dead letter completes")

		// e3: a plain retry.
		require.NoError(t, in.Retry(ctx, dead["e3"]))
		wait("e3")

		// e4: discarded for good.
		require.NoError(t, in.Discard(ctx, dead["e4"]))
		assert.ErrorIs(t, in.Retry(ctx, dead["e4"]), ErrNotDeadLetter)
		assert.ErrorIs(t, in.Discard(ctx, dead["e4"]), ErrNotDeadLetter)

		mu.Lock()
		assert.Equal(t, map[string]int{"e1": 1, "e2": 1, "e3": 1}, calls, "each processed once")
		mu.Unlock()
		waitFor(t, 20*time.Second, func() bool {
			c, err := in.Counts(ctx)
			return err == nil && c.Dead == 0 && c.Pending == 0 && c.Running == 0
		}, "nothing left dead or pending")
		for _, id := range []string{"e1", "e2", "e3"} {
			assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = $1", id), id)
		}
	})
}

// Concurrent Enqueues share transactions; two copies of one delivery,
// in one batch or not, store one job; every call returns only after its
// row is committed (it is visible when Enqueue returns).
func TestGroupCommit(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t)
		require.NoError(t, in.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
		const n, distinct = 300, 200
		var wg sync.WaitGroup
		var stored, dups atomic.Int32
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("evt_gc_%d", i%distinct)
				err := in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: id, Raw: []byte("{}")})
				switch {
				case err == nil:
					stored.Add(1)
				case errors.Is(err, webhook.ErrDuplicate):
					dups.Add(1)
				default:
					t.Error(err)
				}
				if c, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE kind = $1 AND id > 0", Kind); err != nil || c == 0 {
					t.Errorf("row not visible after Enqueue returned: %d %v", c, err)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(distinct), stored.Load())
		assert.Equal(t, int32(n-distinct), dups.Load())
		assert.Equal(t, distinct, db.count(t, "SELECT count(*) FROM %sriver_job"))

		// Two copies in one batch, white-box: one stored, the other a duplicate.
		p := func(id string) *pending {
			a := newArgs(&webhook.Event{Provider: "sivo", Receiver: "default", ID: id, Raw: []byte("{}")})
			return &pending{args: a, key: a.key(), done: make(chan struct{})}
		}
		batch := []*pending{p("same"), p("same"), p("other")}
		flushOf(in)(batch)
		assert.NoError(t, batch[0].err)
		assert.ErrorIs(t, batch[1].err, webhook.ErrDuplicate)
		assert.NoError(t, batch[2].err)
		assert.Equal(t, distinct+2, db.count(t, "SELECT count(*) FROM %sriver_job"))
	})
}

func flushOf(in inboxAPI) func([]*pending) {
	switch v := in.(type) {
	case interface{ flushFunc() func([]*pending) }:
		return v.flushFunc()
	}
	panic("unknown inbox")
}

// A no-op burst drains at 1,000 jobs/s or more per replica: workers fetch
// again as soon as they are free (FetchCooldown 5 ms, 50 workers).
func TestDrainRate(t *testing.T) {
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			db := newTestDBKind(t, k)
			ctx := context.Background()
			in := db.newInbox(t)
			var done atomic.Int64
			n := int64(2000)
			if raceEnabled {
				n = 300 // River's SQLite driver runs ~30x slower under the race detector
			}
			all := make(chan struct{})
			require.NoError(t, in.Register("sivo/default", func(context.Context, *webhook.Event) error {
				if done.Add(1) == n {
					close(all)
				}
				return nil
			}))
			var wg sync.WaitGroup
			for g := range 50 {
				wg.Go(func() {
					for i := int64(g); i < n; i += 50 {
						require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: fmt.Sprintf("d%d", i), Raw: []byte("{}")}))
					}
				})
			}
			wg.Wait()
			t0 := time.Now()
			startInbox(t, in)
			select {
			case <-all:
			case <-time.After(60 * time.Second):
				t.Fatalf("drained %d of %d", done.Load(), n)
			}
			rate := float64(n) / time.Since(t0).Seconds()
			t.Logf("%s: drained %d no-op jobs at %.0f jobs/s (loaded 2-core machine)", k, n, rate)
			if k != kindSQLite && !raceEnabled { // the race detector slows everything 5-10x
				assert.GreaterOrEqual(t, rate, 1000.0)
			}
		})
	}
}

// The rescue delay is a documented choice: job timeout + 30 s by default.
func TestRescueDefault(t *testing.T) {
	c, err := newConfig(nil)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.jobTimeout)
	assert.Equal(t, time.Minute, c.rescueAfter)
	c, err = newConfig([]Option{WithJobTimeout(5 * time.Second)})
	require.NoError(t, err)
	assert.Equal(t, 35*time.Second, c.rescueAfter)
}

// Stored deliveries keep the headers the receiver kept, never
// credentials.
func TestStoredHeadersHaveNoCredentials(t *testing.T) {
	a := newArgs(&webhook.Event{Provider: "sivo", ID: "x", Header: map[string][]string{
		"Authorization": {"Bearer s3cret"}, "Cookie": {"session=s3cret"}, "X-Sivo-Signature": {"abc"}, "Content-Type": {"application/json"}}})
	assert.Equal(t, []string{"abc"}, a.Header["X-Sivo-Signature"])
	assert.Equal(t, []string{"application/json"}, a.Header["Content-Type"])
	assert.Empty(t, a.Header["Authorization"])
	assert.Empty(t, a.Header["Cookie"])
}

var _ = sivotest.NewSender
var _ = river.JobCancel

// A delivery the database refuses fails only itself (503, the vendor
// retries): the deliveries that shared its batch are stored on their own,
// the next batch is stored, nothing refused is acknowledged.
func TestFailedBatchFailsOnlyItsOwn(t *testing.T) {
	db := newTestDBKind(t, kindPgx)
	db.exec(t, `CREATE FUNCTION %[1]sboom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.args->>'id' = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`)
	db.exec(t, `CREATE TRIGGER boom BEFORE INSERT ON %[1]sriver_job FOR EACH ROW EXECUTE FUNCTION %[1]sboom()`)
	in := db.newInbox(t)
	require.NoError(t, in.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
	p := func(id string) *pending {
		a := newArgs(&webhook.Event{Provider: "sivo", Receiver: "default", ID: id, Raw: []byte("{}")})
		return &pending{args: a, key: a.key(), done: make(chan struct{})}
	}
	bad := []*pending{p("ok1"), p("boom"), p("ok2")}
	flushOf(in)(bad)
	good := []*pending{p("ok3")}
	flushOf(in)(good)
	require.Error(t, bad[1].err)
	assert.Equal(t, 503, webhook.StatusCode(fmt.Errorf("%w: %w", webhook.ErrStoreUnavailable, bad[1].err)), "the receiver answers 503")
	assert.NotErrorIs(t, bad[1].err, webhook.ErrDuplicate)
	assert.NoError(t, bad[0].err, "stored on its own")
	assert.NoError(t, bad[2].err, "stored on its own")
	assert.NoError(t, good[0].err)
	assert.Equal(t, 3, db.count(t, "SELECT count(*) FROM %sriver_job"), "ok1, ok2, ok3 stored; boom not")
	assert.Equal(t, 0, db.count(t, "SELECT count(*) FROM %sriver_job WHERE args->>'id' = 'boom'"))
	ctx := context.Background()
	assert.Error(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "boom", Raw: []byte("{}")}))
	assert.ErrorIs(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "ok1", Raw: []byte("{}")}), webhook.ErrDuplicate)
}

// nilCauseError is a careless user's error: its Error method panics on a
// nil cause, and it claims to be a callback failure, so the engine does
// not wrap it.
type nilCauseError struct{ cause error }

func (e *nilCauseError) Error() string        { return "retry later: " + e.cause.Error() }
func (e *nilCauseError) Is(target error) bool { return target == webhook.ErrCallbackFailed }

// TestPanickingErrorMessageIsRetried: a job whose callback fails with an
// error whose Error method panics is a failed attempt, recorded with the
// error's type and retried, not a crash of River's executor (and with it
// the process) when River reads the message for the job's errors.
func TestPanickingErrorMessageIsRetried(t *testing.T) {
	db := newTestDBKind(t, kindSQLite)
	ctx := context.Background()
	in := db.newInbox(t)
	newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error {
		return &nilCauseError{}
	}})
	require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_panicky",
		Type: string(sivo.EventCallEnded), Raw: sivoEvent(t, "evt_panicky")}))
	startInbox(t, in)
	waitFor(t, 20*time.Second, func() bool {
		return db.count(t, "SELECT count(*) FROM %sriver_job WHERE state = 'retryable'") == 1
	}, "a failed attempt, to be retried")
	var errs []byte // JSON on PostgreSQL, SQLite's JSONB here: the text is in it
	require.NoError(t, db.sqldb.QueryRow(db.sql("SELECT errors FROM %sriver_job")).Scan(&errs))
	assert.Contains(t, string(errs), "riverinbox.nilCauseError (its Error method panicked)", "the attempt's error names the error's type")
}
