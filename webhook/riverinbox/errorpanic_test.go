package riverinbox

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
