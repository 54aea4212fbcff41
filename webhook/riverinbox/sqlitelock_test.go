package riverinbox

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/webhook"

	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SQLite's "database down": another process holds the write lock longer
// than the busy timeout. Deliveries are answered 5xx meanwhile (the
// sender retries), and every acknowledged one is processed once after.
func TestSQLiteLockedLongerThanBusyTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	dsn := strings.Replace(SQLiteDSN(path), "busy_timeout(10000)", "busy_timeout(1000)", 1)
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	db := &testDB{kind: kindSQLite, dsn: dsn, sqldb: open()}
	db.sqldb.SetMaxOpenConns(8)
	require.NoError(t, db.newInbox(t).Migrate(context.Background()))
	db.exec(t, `CREATE TABLE %sapplied (id TEXT NOT NULL, at BIGINT NOT NULL DEFAULT 0)`)
	db.exec(t, `CREATE TABLE %splain (id TEXT NOT NULL, at BIGINT NOT NULL DEFAULT 0)`)
	in := db.newInbox(t)
	h := newSivoHandler(t, in, recordingCallbacks(db, true, nil))
	startInbox(t, in)
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The other writer (another process would do the same through the file lock).
	other := open()
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()

	const events = 60
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = keepAliveClient(8)
	var st sendStats
	send := func(from, to int) {
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := from + g; i < to; i += 6 {
					if err := deliverUntilAcked(ctx, s, srv.URL, sivoEvent(t, fmt.Sprintf("evt_lock_%03d", i)), &st); err != nil {
						t.Errorf("event %d: %v", i, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	send(0, events/3)
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	locked := make(chan struct{})
	go func() {
		defer close(locked)
		send(events/3, events)
	}()
	// Hold the lock until deliveries have been refused (each waited the
	// full busy timeout first).
	for st.unavailable.Load() < 3 && ctx.Err() == nil {
		select {
		case <-locked:
		case <-time.After(20 * time.Millisecond):
		}
	}
	ackedWhileLocked := st.acked.Load() - events/3
	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)
	<-locked
	require.Equal(t, int64(events), st.acked.Load())
	assert.GreaterOrEqual(t, st.unavailable.Load(), int64(3), "5xx while the file was locked")
	waitFor(t, 30*time.Second, func() bool {
		n, err := db.countErr("SELECT count(DISTINCT id) FROM %sapplied")
		return err == nil && n == events
	}, "every acknowledged delivery processed")
	assert.Equal(t, events, db.count(t, "SELECT count(*) FROM %sapplied"), "once through Tx")
	t.Logf("%d answers 5xx while locked, %d acknowledged meanwhile (before the lock blocked them)", st.unavailable.Load(), ackedWhileLocked)
}

// TestSQLiteSettingsChecked: NewSQLite checks what every SQL store of
// this module checks (the same check as sqldedupe's and sirosql's): it
// refuses a database without a busy timeout, saying how to open it,
// switches a rollback-journal file to WAL itself and refuses an
// in-memory database. It also refuses a pool whose transactions begin
// DEFERRED (two writers could deadlock), unless the pool has one
// connection.
func TestSQLiteSettingsChecked(t *testing.T) {
	ok := sqldbtest.CheckSQLiteSettings(t, webhook.ErrInvalidOption, func(db *sql.DB) error {
		db.SetMaxOpenConns(1) // the shared check's DSNs do not set _txlock (tested below)
		_, err := NewSQLite(db)
		return err
	})
	_, err := NewSQLite(ok)
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "deferred.db")
	dsn := strings.Replace(SQLiteDSN(path), "&_txlock=immediate", "", 1)
	deferred, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer deferred.Close()
	_, err = NewSQLite(deferred)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	assert.ErrorContains(t, err, "_txlock=immediate")

	deferred.SetMaxOpenConns(1)
	_, err = NewSQLite(deferred)
	assert.NoError(t, err, "one connection: no two transactions to deadlock")
}
