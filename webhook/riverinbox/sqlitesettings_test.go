package riverinbox

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
