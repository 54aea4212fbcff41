package sqldedupe

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSQLiteSettingsChecked: New refuses a SQLite database without a busy
// timeout (a write would fail at once while another process writes, and a
// failed commit leaves the delivery answered 409 for a whole lease) with
// an error saying how to open it; it switches a file to WAL itself; an
// in-memory database, which cannot be WAL nor shared, is refused.
func TestSQLiteSettingsChecked(t *testing.T) {
	ok := sqldbtest.CheckSQLiteSettings(t, webhook.ErrInvalidOption, func(db *sql.DB) error {
		_, err := New(db)
		return err
	})
	s, err := New(ok)
	require.NoError(t, err)
	assert.Equal(t, SQLite, s.dialect)
	assert.Contains(t, s.qReserve, "julianday('now')", "leases by the database's clock")
}

// Environment of a child process of TestSQLiteTwoProcesses.
const (
	childEnv   = "CALLCRM_SQLDEDUPE_CHILD" // path|table|seed
	childIDs   = 250
	childProcs = 2
	childReady = "child: ready"
)

// TestSQLiteTwoProcesses: two processes (this test binary, re-executed)
// share one SQLite file, each with its own pool of 4 connections, and both
// deliver the same 250 event ids in their own order with 20 % handler
// failures, retrying what was in progress, like two replicas behind a load
// balancer. Every Reserve, Extend, Commit and Release either succeeds or
// answers duplicate / in progress / not owner: none fails because the
// file was busy (which left a delivery answered 409 for a whole lease).
// Afterwards every id is committed and was processed exactly once.
func TestSQLiteTwoProcesses(t *testing.T) {
	if spec := os.Getenv(childEnv); spec != "" {
		runChild(t, spec)
		return
	}
	path, db := sqldbtest.OpenSQLiteFile(t, "shared.db")
	s := newStore(t, db)
	_, err := db.Exec(`CREATE TABLE processed (key TEXT NOT NULL, proc INTEGER NOT NULL)`)
	require.NoError(t, err)

	exe, err := os.Executable()
	require.NoError(t, err)
	cmds := make([]*exec.Cmd, childProcs)
	outs := make([]strings.Builder, childProcs)
	gates := make([]io.WriteCloser, childProcs)
	copied := make([]chan struct{}, childProcs)
	for i := range cmds {
		cmds[i] = exec.Command(exe, "-test.run=^TestSQLiteTwoProcesses$", "-test.count=1", "-test.v")
		cmds[i].Env = append(os.Environ(), childEnv+"="+path+"|"+s.table+"|"+strconv.Itoa(i))
		cmds[i].Stderr = &outs[i]
		stdout, err := cmds[i].StdoutPipe()
		require.NoError(t, err)
		gates[i], err = cmds[i].StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmds[i].Start())
		// Each child opens its store, prints childReady and waits for its
		// stdin to close: both start delivering at the same moment.
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			outs[i].WriteString(line)
			if strings.Contains(line, childReady) {
				break
			}
			require.NoError(t, err, "process %d never got ready:\n%s", i, outs[i].String())
		}
		copied[i] = make(chan struct{})
		go func(i int) {
			defer close(copied[i])
			var rest strings.Builder
			_, _ = io.Copy(&rest, r)
			outs[i].WriteString(rest.String())
		}(i)
	}
	for _, g := range gates {
		require.NoError(t, g.Close())
	}
	for i, c := range cmds {
		<-copied[i]
		if err := c.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	var committed, rows, dup int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM "+s.table+" WHERE state = 1").Scan(&committed))
	require.NoError(t, db.QueryRow("SELECT count(*), count(DISTINCT key) FROM processed").Scan(&rows, &dup))
	assert.Equal(t, childIDs, committed, "every id committed")
	assert.Equal(t, childIDs, dup, "every id processed")
	assert.Equal(t, childIDs, rows, "no id processed twice")
	for i := range outs {
		for _, l := range strings.Split(outs[i].String(), "\n") {
			if strings.Contains(l, "child: processed") {
				t.Logf("process %d %s", i, strings.TrimSpace(l))
			}
		}
	}
}

// runChild is one process of TestSQLiteTwoProcesses.
func runChild(t *testing.T, spec string) {
	parts := strings.Split(spec, "|")
	require.Len(t, parts, 3)
	seed, _ := strconv.Atoi(parts[2])
	db, err := sql.Open("sqlite", sqldbtest.SQLiteDSN(parts[0]))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(4)
	s, err := New(db, WithTable(parts[1]), WithLease(time.Minute))
	require.NoError(t, err)
	fmt.Println(childReady)
	_, _ = io.Copy(io.Discard, os.Stdin) // the start gate
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	pending := rng.Perm(childIDs)
	var processed, failed, busyAnswers, passes int
	began := time.Now()
	// A key the other process holds is retried until it settles (a
	// vendor retries too); the bound is time, not passes, since a pass over
	// one held key takes a millisecond.
	for deadline := began.Add(time.Minute); len(pending) > 0 && time.Now().Before(deadline); passes++ {
		var again []int
		for _, i := range pending {
			key := fmt.Sprintf("evt_%04d", i)
			res, err := s.Reserve(ctx, key)
			switch {
			case errors.Is(err, webhook.ErrDuplicate):
				continue
			case errors.Is(err, webhook.ErrInProgress):
				busyAnswers++ // the other process holds it: retry later
				again = append(again, i)
				continue
			case err != nil:
				t.Fatalf("Reserve %s: %v", key, err)
			}
			if res, err = s.Extend(ctx, res); err != nil {
				t.Fatalf("Extend %s: %v", key, err)
			}
			if rng.IntN(5) == 0 { // the handler failed: release for a retry
				failed++
				if err := s.Release(ctx, res); err != nil {
					t.Fatalf("Release %s: %v", key, err)
				}
				again = append(again, i)
				continue
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO processed (key, proc) VALUES ($1, $2)`, key, seed); err != nil {
				t.Fatalf("processing %s: %v", key, err)
			}
			processed++
			if err := s.Commit(ctx, res); err != nil {
				t.Fatalf("Commit %s: %v", key, err)
			}
		}
		pending = again
	}
	require.Empty(t, pending, "ids never settled")
	t.Logf("child: processed %d, handler failures %d, in-progress answers %d, passes %d, in %v", processed, failed, busyAnswers, passes, time.Since(began).Round(time.Millisecond))
}

// The constructors convert Dialect to internal/sqldb's by number (sqldb.Setup).
func TestDialectNumberedLikeSQLDB(t *testing.T) { sqldbtest.NumberedLikeSQLDB(t, PostgreSQL, SQLite) }
