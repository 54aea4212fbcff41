package riverinbox

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackTenantsAreNotMergedByJSON: the same vendor id from two tenants
// must be stored (and processed) once per tenant. Tenant is a unique arg
// but, unlike ID, is not escaped: a tenant that is not valid UTF-8 (the
// receiver accepts one from TenantFromPath, "%FF" unescapes to 0xFF) is
// replaced by U+FFFD when River encodes the args, so two such tenants
// share one unique key and the second tenant's delivery is dropped as a
// duplicate (answered 2xx, never processed), and the callback sees a
// tenant that is not the one the delivery was addressed to.
func TestAttackTenantsAreNotMergedByJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		in := db.newInbox(t)
		require.NoError(t, in.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
		ev := func(tenant string) *webhook.Event {
			return &webhook.Event{Provider: "sivo", Receiver: "default", Tenant: tenant, ID: "same-id", Raw: []byte(`{}`)}
		}
		require.NoError(t, in.Enqueue(ctx, ev("acme")))
		require.NoError(t, in.Enqueue(ctx, ev("globex")), "same id, another tenant: stored")
		require.NoError(t, in.Enqueue(ctx, ev("t\xff")))
		assert.NoError(t, in.Enqueue(ctx, ev("t\xfe")), "same id, another tenant (not UTF-8): must be stored, not a duplicate")
		var tenants []string
		for _, a := range storedArgs(t, db) {
			tenants = append(tenants, a.Event().Tenant)
		}
		assert.Contains(t, tenants, "t\xff", "the stored event keeps its tenant")
	})
}

// TestAttackRetryDiscardStayInTheirQueue: DeadLetters and Counts only see
// the inbox's own queue (WithQueue), but Retry and Discard act on any
// dead delivery job by id: an inbox on queue "b" deletes (or revives) a
// dead letter of the inbox on queue "a" sharing the database.
func TestAttackRetryDiscardStayInTheirQueue(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a := db.newInbox(t, WithQueue("queue_a"))
		b := db.newInbox(t, WithQueue("queue_b"))
		require.NoError(t, a.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
		require.NoError(t, b.Register("sivo/default", func(context.Context, *webhook.Event) error { return nil }))
		require.NoError(t, a.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "dead-a", Raw: []byte(`{}`)}))
		// Dead-letter it as River does after its last attempt.
		db.exec(t, "UPDATE %sriver_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP WHERE queue = 'queue_a'")
		var id int64
		for d, err := range a.DeadLetters(ctx, Filter{}) {
			require.NoError(t, err)
			id = d.JobID
		}
		require.NotZero(t, id, "queue a lists its dead letter")
		for range b.DeadLetters(ctx, Filter{}) {
			t.Fatal("queue b lists queue a's dead letter")
		}
		assert.ErrorIs(t, b.Discard(ctx, id), ErrNotDeadLetter, "inbox b discarded inbox a's dead letter")
		assert.ErrorIs(t, b.Retry(ctx, id), ErrNotDeadLetter, "inbox b retried inbox a's dead letter")
		ca, err := a.Counts(ctx)
		require.NoError(t, err)
		assert.Equal(t, Counts{Dead: 1}, ca, "inbox a's dead letter is untouched")
	})
}

// storedArgs reads back every stored delivery's arguments.
func storedArgs(t *testing.T, db *testDB) []DeliveryArgs {
	t.Helper()
	q := db.sql("SELECT CAST(args AS TEXT) FROM %sriver_job WHERE kind = $1")
	if db.kind == kindSQLite {
		q = db.sql("SELECT json(args) FROM %sriver_job WHERE kind = $1") // River stores JSONB there
	}
	var raws []string
	if db.pool != nil {
		rows, err := db.pool.Query(context.Background(), q, Kind)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			raws = append(raws, s)
		}
		require.NoError(t, rows.Err())
	} else {
		rows, err := db.sqldb.QueryContext(context.Background(), q, Kind)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			raws = append(raws, s)
		}
		require.NoError(t, rows.Err())
	}
	var out []DeliveryArgs
	for _, s := range raws {
		var a DeliveryArgs
		require.NoError(t, json.Unmarshal([]byte(s), &a))
		out = append(out, a)
	}
	return out
}

// TestAttackGoexitInCallbackFreesTheWorker: a callback that ends its
// goroutine with runtime.Goexit (t.FailNow in a test double) never
// returns to River's executor: the job stays running (until the rescuer,
// an hour by default) and, worse, the worker slot is never given back, so
// with WithWorkers(1) no later delivery is ever processed. Receiver.Process
// does not guard it either (the inline engine turns Goexit into a 500).
func TestAttackGoexitInCallbackFreesTheWorker(t *testing.T) {
	db := newTestDBKind(t, kindSQLite)
	ctx := context.Background()
	in := db.newInbox(t, WithWorkers(1))
	processed := make(chan string, 4)
	require.NoError(t, in.Register("sivo/default", func(_ context.Context, ev *webhook.Event) error {
		if ev.ID == "goexit" {
			runtime.Goexit()
		}
		processed <- ev.ID
		return nil
	}))
	require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "goexit", Raw: []byte(`{}`)}))
	startInbox(t, in)
	waitFor(t, 20*time.Second, func() bool {
		c, err := in.Counts(ctx)
		return err == nil && c.Pending == 0
	}, "the goexit job is picked up")
	require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "after", Raw: []byte(`{}`)}))
	select {
	case id := <-processed:
		assert.Equal(t, "after", id)
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery after a Goexit callback is never processed: the only worker slot was lost")
	}
}
