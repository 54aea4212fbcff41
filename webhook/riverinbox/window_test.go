package riverinbox

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type foreignArgs struct{}

func (foreignArgs) Kind() string { return "crm_foreign_job" }

type foreignWorker struct {
	river.WorkerDefaults[foreignArgs]
}

func (foreignWorker) Work(context.Context, *river.Job[foreignArgs]) error { return nil }

// startForeignClient runs the CRM's own River client in schema with a
// 1-minute completed-job retention, and waits until its cleaner has run
// once: a completed canary job older than a minute is gone. (River's
// cleaner has no public signal; the wait is a bounded poll on the
// canary, nothing sleeps.)
func startForeignClient(t *testing.T, db *testDB, schema string) {
	ctx := context.Background()
	workers := river.NewWorkers()
	river.AddWorker(workers, foreignWorker{})
	fc, err := river.NewClient(riverpgxv5.New(db.pool), &river.Config{Schema: schema, Workers: workers,
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}, CompletedJobRetentionPeriod: time.Minute,
		Logger: quietLogger()})
	require.NoError(t, err)
	res, err := fc.Insert(ctx, foreignArgs{}, nil)
	require.NoError(t, err)
	_, err = db.pool.Exec(ctx, "UPDATE "+schema+".river_job SET state = 'completed', finalized_at = now() - interval '2 hours' WHERE id = $1", res.Job.ID)
	require.NoError(t, err)
	require.NoError(t, fc.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fc.Stop(sctx)
	})
	waitFor(t, 30*time.Second, func() bool {
		var n int
		return db.pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".river_job WHERE id = $1", res.Job.ID).Scan(&n) == nil && n == 0
	}, "the foreign client's cleaner ran")
}

// The dedupe window cannot shrink: a CRM's own River client with a
// 1-minute retention runs in the same database. In its own schema (the
// default puts the inbox in DefaultSchema, not River's search_path
// default) its cleaner never sees the inbox's jobs; and even when a user
// points both at one schema, a redelivery after the cleaner deleted the
// job is not written twice through Tx (the processed table).
func TestForeignRiverClientCannotShrinkTheWindow(t *testing.T) {
	c, err := newConfig(nil)
	require.NoError(t, err)
	require.Equal(t, DefaultSchema, c.schema, "the inbox defaults to its own schema, not River's default (search_path)")
	require.NotEmpty(t, DefaultSchema)

	for _, shared := range []bool{false, true} {
		name := "own_schema"
		if shared {
			name = "shared_schema"
		}
		t.Run(name, func(t *testing.T) {
			db := newTestDBKind(t, kindPgx)
			ctx := context.Background()
			in := db.newInbox(t)
			h := newSivoHandler(t, in, recordingCallbacks(db, true, nil))
			startInbox(t, in)
			s, _ := sivotest.NewSender(testSecret)
			body := sivoEvent(t, "evt_window")
			require.Equal(t, 200, s.Serve(h, body))
			waitFor(t, 20*time.Second, func() bool {
				n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
				return err == nil && n == 1
			}, "processed")
			// Two hours later (for a 1-minute retention); the inbox keeps 72 h.
			db.exec(t, "UPDATE %sriver_job SET finalized_at = now() - interval '2 hours'")

			foreign := db.schema
			if !shared {
				foreign = db.schema + "_crm"
				_, err := db.pool.Exec(ctx, "CREATE SCHEMA "+foreign)
				require.NoError(t, err)
				t.Cleanup(func() { _, _ = db.pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+foreign+" CASCADE") })
				m, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Schema: foreign})
				require.NoError(t, err)
				_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
				require.NoError(t, err)
			}
			// The CRM's client must be the elected leader of its schema for
			// its cleaner to run: the inbox's client resigns while it starts.
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			require.NoError(t, in.Stop(sctx))
			cancel()
			startForeignClient(t, db, foreign)
			require.NoError(t, in.Start(ctx))

			jobs := db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind)
			// The vendor retries late (Svix: up to ~28 h), reaching another
			// replica (or a restarted process: no in-memory dedupe).
			late := newSivoHandler(t, db.newInbox(t), recordingCallbacks(db, true, nil))
			require.Equal(t, 200, s.Serve(late, body))
			if !shared {
				assert.Equal(t, 1, jobs, "the foreign cleaner did not touch the inbox's schema")
				assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind), "the late retry stored nothing")
			} else {
				assert.Equal(t, 0, jobs, "sharing the schema, the foreign cleaner deleted the inbox's job")
				waitFor(t, 20*time.Second, func() bool {
					n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE kind = $1 AND state = 'completed'", Kind)
					return err == nil && n == 1
				}, "the late retry's job ran")
			}
			assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied"), "written once through Tx")
		})
	}
}
