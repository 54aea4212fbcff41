package sirosql

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDialectAndSQLiteSettings: the dialect comes from the driver (or
// WithDialect when it cannot); on SQLite the constructors refuse a
// database without a busy timeout, saying how to open it, switch a file
// to WAL themselves, and refuse an in-memory database.
func TestDialectAndSQLiteSettings(t *testing.T) {
	unknown := sqldbtest.UnknownDB(t)
	_, err := NewCheckpoint(unknown, "job")
	require.ErrorIs(t, err, siro.ErrInvalidOption)
	assert.ErrorContains(t, err, "WithDialect")
	_, err = NewCheckpoint(unknown, "job", WithDialect(PostgreSQL))
	require.NoError(t, err)
	_, err = NewLimiter(unknown, "b", 100, WithDialect(0))
	assert.ErrorIs(t, err, siro.ErrInvalidOption)

	sqldbtest.CheckSQLiteSettings(t, siro.ErrInvalidOption, func(db *sql.DB) error {
		_, err := NewLimiter(db, "b", 100)
		return err
	})
	sqldbtest.CheckSQLiteSettings(t, siro.ErrInvalidOption, func(db *sql.DB) error {
		_, err := NewCheckpoint(db, "job")
		return err
	})
}

const (
	limiterChildEnv = "CALLCRM_SIROSQL_CHILD" // path|table|n
	limiterReady    = "child: ready"
	slotsPerChild   = 300
	limiterRate     = 60_000 // one slot per millisecond
)

// TestSQLiteLimiterTwoProcesses: two processes (this test binary,
// re-executed) share one SQLite file and book slots on one limiter bucket
// at once, each from a pool of 4 connections with 4 goroutines. No call
// fails because the file was busy, and the 600 slots are all distinct
// and at least one interval apart: the two processes together stay under
// the rate.
func TestSQLiteLimiterTwoProcesses(t *testing.T) {
	if spec := os.Getenv(limiterChildEnv); spec != "" {
		limiterChild(t, spec)
		return
	}
	path, db := sqldbtest.OpenSQLiteFile(t, "limiter.db")
	table := sqldbtest.Table(t, db, "rl_two")
	l, err := NewLimiter(db, "siro-org-test", limiterRate, WithTable(table))
	require.NoError(t, err)
	require.NoError(t, l.CreateTable(context.Background()))

	exe, err := os.Executable()
	require.NoError(t, err)
	type child struct {
		cmd    *exec.Cmd
		gate   io.WriteCloser
		out    strings.Builder
		slots  []int64
		copied chan struct{}
	}
	children := make([]*child, 2)
	for i := range children {
		c := &child{copied: make(chan struct{})}
		children[i] = c
		c.cmd = exec.Command(exe, "-test.run=^TestSQLiteLimiterTwoProcesses$", "-test.count=1", "-test.v")
		c.cmd.Env = append(os.Environ(), limiterChildEnv+"="+path+"|"+table)
		c.cmd.Stderr = &c.out
		stdout, err := c.cmd.StdoutPipe()
		require.NoError(t, err)
		c.gate, err = c.cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, c.cmd.Start())
		r := bufio.NewReader(stdout)
		for { // wait until it opened its limiter
			line, err := r.ReadString('\n')
			c.out.WriteString(line)
			if strings.Contains(line, limiterReady) {
				break
			}
			require.NoError(t, err, "process %d never got ready:\n%s", i, c.out.String())
		}
		go func() {
			defer close(c.copied)
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "slot "); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					c.slots = append(c.slots, n)
				}
			}
		}()
	}
	for _, c := range children {
		require.NoError(t, c.gate.Close()) // both start booking now
	}
	var all []int64
	for i, c := range children {
		<-c.copied
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, c.out.String())
		}
		assert.Len(t, c.slots, slotsPerChild, "process %d booked every slot", i)
		all = append(all, c.slots...)
	}
	slices.Sort(all)
	interval := int64(time.Minute/limiterRate) / 1000 // microseconds
	for i := 1; i < len(all); i++ {
		if all[i]-all[i-1] < interval {
			t.Fatalf("slots %d and %d are %d µs apart, under the %d µs interval", i-1, i, all[i]-all[i-1], interval)
		}
	}
}

// limiterChild is one process of TestSQLiteLimiterTwoProcesses: it books
// slotsPerChild slots from 4 goroutines and prints them.
func limiterChild(t *testing.T, spec string) {
	path, table, _ := strings.Cut(spec, "|")
	db, err := sql.Open("sqlite", sqldbtest.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(4)
	l, err := NewLimiter(db, "siro-org-test", limiterRate, WithTable(table))
	require.NoError(t, err)
	fmt.Println(limiterReady)
	_, _ = io.Copy(io.Discard, os.Stdin) // the start gate
	slots := make(chan int64, slotsPerChild)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range slotsPerChild / 4 {
				at, err := l.Reserve(context.Background())
				if err != nil {
					errs <- err
					return
				}
				slots <- at.UnixMicro()
			}
			errs <- nil
		}()
	}
	for range 4 {
		require.NoError(t, <-errs, "a booking failed (the file was busy?)")
	}
	close(slots)
	for s := range slots {
		fmt.Printf("slot %d\n", s)
	}
}

// The constructors convert Dialect to internal/sqldb's by number (sqldb.Setup).
func TestDialectNumberedLikeSQLDB(t *testing.T) { sqldbtest.NumberedLikeSQLDB(t, PostgreSQL, SQLite) }
