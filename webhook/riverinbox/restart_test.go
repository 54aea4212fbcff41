package riverinbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pgControl stops and starts the test PostgreSQL server: CALLCRM_PG_CTL
// (pg_ctl's path), CALLCRM_PGDATA (its data directory) and, when the
// server runs as another user, CALLCRM_PG_AS (run through su). .ci/postgres
// exports them.
type pgControl struct {
	ctl, data, as string
	opts          []string // the server's command-line options, for start
}

// Stopping the server breaks every other test using it, so these tests
// run only when CALLCRM_PG_RESTART=1 says nothing else is: .ci/run runs
// them in a step of their own, one package at a time (-p 1), after the
// main suite.
func newPGControl(t *testing.T) *pgControl {
	if os.Getenv("CALLCRM_PG_RESTART") != "1" {
		t.Skip("stops and restarts PostgreSQL: runs alone with CALLCRM_PG_RESTART=1 (.ci/run's restart step)")
	}
	c := &pgControl{ctl: os.Getenv("CALLCRM_PG_CTL"), data: os.Getenv("CALLCRM_PGDATA"), as: os.Getenv("CALLCRM_PG_AS")}
	if c.ctl == "" || c.data == "" {
		if os.Getenv("CALLCRM_REQUIRE_POSTGRES") != "" {
			t.Fatal("CALLCRM_REQUIRE_POSTGRES is set but CALLCRM_PG_CTL / CALLCRM_PGDATA are not (.ci/postgres exports them)")
		}
		t.Skip("set CALLCRM_PG_CTL and CALLCRM_PGDATA (and CALLCRM_PG_AS=postgres when root) to run the database restart test")
	}
	// postmaster.opts holds the options the server was started with:
	// /usr/lib/postgresql/15/bin/postgres "-D" "/tmp/pgdev" "-h" "127.0.0.1" ...
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.opts"))
	require.NoError(t, err, "reading the server's start options")
	fields := strings.Split(strings.TrimSpace(string(b)), "\"")
	var args []string
	for i := 1; i < len(fields); i += 2 {
		args = append(args, fields[i])
	}
	for i := 0; i < len(args); i++ {
		if args[i] == "-D" {
			i++
			continue
		}
		c.opts = append(c.opts, args[i])
	}
	return c
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (c *pgControl) run(args ...string) error {
	full := append([]string{c.ctl, "-D", c.data}, args...)
	var cmd *exec.Cmd
	if c.as != "" {
		q := make([]string, len(full))
		for i, a := range full {
			q[i] = shellQuote(a)
		}
		cmd = exec.Command("su", c.as, "-s", "/bin/sh", "-c", strings.Join(q, " "))
	} else {
		cmd = exec.Command(full[0], full[1:]...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", args[0], err, out)
	}
	return nil
}

func (c *pgControl) stop() error { return c.run("stop", "-m", "fast", "-w") }

func (c *pgControl) start() error {
	var o []string
	for _, a := range c.opts {
		o = append(o, shellQuote(a))
	}
	return c.run("start", "-w", "-t", "60", "-l", filepath.Join(c.data, "restart.log"), "-o", strings.Join(o, " "))
}

func (c *pgControl) running() bool { return c.run("status") == nil }

// TestDatabaseRestartLosesNothingAcknowledged stops PostgreSQL while
// deliveries arrive and keeps it down until every sender has been refused
// several times: deliveries are answered 5xx while it is down (the sender
// retries), none made while it is down is acknowledged before it is back,
// and every acknowledged one is processed, once, after it is back.
//
// Nothing waits a fixed time. The senders deliver the first half of the
// events back to back, and PostgreSQL is stopped when a quarter is
// acknowledged, so deliveries are normally in flight as it stops; the
// second half is held back until it is down, so deliveries arrive
// throughout the outage whatever the machine's speed. The outage lasts
// until each sender has been answered 5xx refusalsWhileDown times after
// the stop completed (a sender retries a refused delivery after
// deliverUntilAcked's 25 ms pause, the vendor's retry pacing), plus
// pg_ctl's start.
func TestDatabaseRestartLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the database")
	}
	pg := newPGControl(t)
	db := newTestDB(t)
	t.Cleanup(func() {
		if !pg.running() {
			if err := pg.start(); err != nil {
				t.Errorf("restarting PostgreSQL: %v", err)
			}
		}
	})
	in := db.newInbox(t, WithJobTimeout(2*time.Second), WithRescueAfter(3*time.Second))
	h := newSivoHandler(t, in, recordingCallbacks(db, true, nil))
	startInbox(t, in)
	srv := httptest.NewServer(h)
	defer srv.Close()

	const (
		events            = 300
		senders           = 6
		refusalsWhileDown = 5 // per sender, after the stop completed
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: a test that failed early ends its senders
	defer cancel()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = &http.Client{Timeout: 5 * time.Second}
	var (
		st         sendStats          // every sender's answers
		own        [senders]sendStats // each sender's
		down       = make(chan struct{})
		restarting atomic.Bool  // set before PostgreSQL is started again
		ackedEarly atomic.Int64 // deliveries made while it was down, acknowledged before it was started again
	)
	for g := range senders {
		wg.Go(func() {
			for i := g; i < events; i += senders {
				late := i >= events/2
				if late {
					select {
					case <-down:
					case <-ctx.Done():
						return
					}
				}
				if err := deliverUntilAcked(ctx, s, srv.URL, sivoEvent(t, fmt.Sprintf("evt_pg_%03d", i)), &st, &own[g]); err != nil {
					t.Errorf("event %d: %v", i, err)
					return
				}
				if late && !restarting.Load() {
					ackedEarly.Add(1)
				}
			}
		})
	}
	select {
	case <-st.acked.Reached(events / 4):
	case <-ctx.Done():
		t.Fatalf("%d of %d deliveries acknowledged before the deadline", st.acked.Load(), events/4)
	}
	ackedBefore := st.acked.Load()
	t0 := time.Now()
	require.NoError(t, pg.stop())
	stopped := time.Since(t0)
	var refusedAtStop [senders]int64
	for g := range own {
		refusedAtStop[g] = own[g].unavailable.Load()
	}
	close(down)
	for g := range own {
		select {
		case <-own[g].unavailable.Reached(refusedAtStop[g] + refusalsWhileDown):
		case <-ctx.Done():
			t.Errorf("sender %d was answered 5xx %d times after PostgreSQL stopped, want %d", g, own[g].unavailable.Load()-refusedAtStop[g], refusalsWhileDown)
		}
	}
	unavailableWhileDown := st.unavailable.Load()
	ackedWhileDown := st.acked.Load() - ackedBefore
	down0 := time.Since(t0)
	restarting.Store(true)
	require.NoError(t, pg.start())
	t.Logf("PostgreSQL stopped after %d acknowledgements (stop took %v), down until every sender had %d more answers 5xx (%v after the stop began): "+
		"%d answers 5xx and %d acknowledgements (committed as it stopped) since it began; back after %v",
		ackedBefore, stopped.Round(time.Millisecond), refusalsWhileDown, down0.Round(time.Millisecond),
		unavailableWhileDown, ackedWhileDown, time.Since(t0).Round(time.Millisecond))
	wg.Wait()
	require.Equal(t, int64(events), st.acked.Load(), "every delivery acknowledged once the database was back")
	assert.Positive(t, unavailableWhileDown, "deliveries are refused with 5xx while the database is down")
	assert.Zero(t, ackedEarly.Load(), "a delivery made while the database was down was acknowledged before it was back")

	require.Eventually(t, func() bool {
		var n, pending int
		if db.pool.QueryRow(ctx, "SELECT count(DISTINCT id) FROM "+db.schema+".applied").Scan(&n) != nil {
			return false
		}
		if db.pool.QueryRow(ctx, "SELECT count(*) FROM "+db.schema+".river_job WHERE state <> 'completed'").Scan(&pending) != nil {
			return false
		}
		return n == events && pending == 0
	}, 40*time.Second, 100*time.Millisecond, "every acknowledged delivery processed after the restart")
	assert.Equal(t, events, db.count(t, "SELECT count(*) FROM %sapplied"), "exactly once through Tx")
	assert.Equal(t, events, db.count(t, "SELECT count(*) FROM %sriver_job"))
	t.Logf("all %d acknowledged deliveries processed exactly once; answers: %d 2xx, %d 5xx, %d 409, %d connection errors",
		events, st.ok2xx.Load(), st.unavailable.Load(), st.conflict.Load(), st.connErr.Load())
}
