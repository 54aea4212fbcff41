package riverinbox

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The crash test re-executes this test binary as the receiver process:
// with crashChildEnv set, TestMain runs crashChild instead of the tests.
const crashChildEnv = "RIVERINBOX_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChild is a whole receiver process: a SIVO handler in enqueue mode
// on the River inbox, whose callback records each event in plain (outside
// the job's transaction) and in applied (through Tx). It runs until it is
// killed.
func crashChild() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	d := &testDB{kind: dbKind(os.Getenv("RIVERINBOX_CHILD_KIND")), dsn: os.Getenv("RIVERINBOX_CHILD_DSN"), schema: os.Getenv("RIVERINBOX_CHILD_SCHEMA")}
	var err error
	switch d.kind {
	case kindPgx:
		cfg, perr := pgxpool.ParseConfig(d.dsn)
		if perr != nil {
			log.Error("child", "error", perr)
			return 2
		}
		cfg.MaxConns = 30
		d.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	case kindSQLPG:
		d.sqldb, err = sql.Open("pgx", d.dsn)
		if err == nil {
			d.sqldb.SetMaxOpenConns(30)
		}
	default:
		d.sqldb, err = sql.Open("sqlite", d.dsn)
		if err == nil {
			d.sqldb.SetMaxOpenConns(8)
		}
	}
	if err != nil {
		log.Error("child", "error", err)
		return 2
	}
	in, err := d.newInboxErr(WithWorkers(8), WithJobTimeout(2*time.Second), WithRescueAfter(3*time.Second),
		WithPollInterval(100*time.Millisecond), WithLogger(log))
	if err != nil {
		log.Error("child", "error", err)
		return 2
	}
	h, err := sivo.NewHandler([]string{testSecret}, recordingCallbacks(d, true, childHold()), webhook.WithInbox(in))
	if err != nil {
		log.Error("child", "error", err)
		return 2
	}
	l, err := net.Listen("tcp", os.Getenv("RIVERINBOX_CHILD_ADDR"))
	if err != nil {
		log.Error("child", "error", err)
		return 2
	}
	if err := in.Start(ctx); err != nil {
		log.Error("child", "error", err)
		return 2
	}
	go func() { _ = (&http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}).Serve(l) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig // the test SIGKILLs; SIGTERM only if it ends early
	return 0
}

// childHold is the child's pause hook (recordingCallbacks'): once the
// test arms it (a byte on file descriptor 4), the next callback to reach
// step RIVERINBOX_CHILD_HOLD_STEP (1 after its write outside the job's
// transaction, 2 after its write through Tx) writes its event's id to
// file descriptor 3 and never returns: the test SIGKILLs the process with
// it stopped there. Without the variable, nil.
func childHold() func(id string, step int) {
	step, _ := strconv.Atoi(os.Getenv("RIVERINBOX_CHILD_HOLD_STEP"))
	if step == 0 {
		return nil
	}
	report, arm := os.NewFile(3, "held"), os.NewFile(4, "arm")
	var armed, held atomic.Bool
	go func() {
		if _, err := arm.Read(make([]byte, 1)); err == nil {
			armed.Store(true)
		}
	}()
	return func(id string, s int) {
		if s == step && armed.Load() && held.CompareAndSwap(false, true) {
			_, _ = fmt.Fprintln(report, id)
			select {} // until SIGKILL
		}
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// sendPlan is 1,600 events delivered 2,000 times: 400 duplicates, 100 of
// them right next to their original so the two are in flight together.
func sendPlan(rng *rand.Rand, events int) []int {
	plan := rng.Perm(events)
	paired := map[int]bool{}
	for len(paired) < events/16 {
		paired[rng.IntN(events)] = true
	}
	var out []int
	for _, e := range plan {
		out = append(out, e)
		if paired[e] {
			out = append(out, e)
		}
	}
	for range events/4 - len(paired) {
		e := rng.IntN(events)
		i := rng.IntN(len(out) + 1)
		out = append(out[:i], append([]int{e}, out[i:]...)...)
	}
	return out
}

// counter is a count a test can wait on: Reached(n) is closed once the
// count is n or more, by the Add that gets it there.
type counter struct {
	atomic.Int64
	mu      sync.Mutex
	waiters []counterWaiter
}

type counterWaiter struct {
	n  int64
	ch chan struct{}
}

// Add adds d and closes the channels of the waiters it satisfies.
func (c *counter) Add(d int64) int64 {
	v := c.Int64.Add(d)
	c.mu.Lock()
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if v >= w.n {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.mu.Unlock()
	return v
}

// Reached returns a channel closed once the count is n or more.
func (c *counter) Reached(n int64) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Load() >= n { // an Add after this Load locks after us and finds the waiter
		close(ch)
		return ch
	}
	c.waiters = append(c.waiters, counterWaiter{n, ch})
	return ch
}

type sendStats struct {
	acked, unavailable              counter
	ok2xx, conflict, other, connErr atomic.Int64
}

// count counts one answer.
func (st *sendStats) count(code int, err error) {
	switch {
	case err != nil:
		st.connErr.Add(1)
	case code >= 200 && code < 300:
		st.ok2xx.Add(1)
		st.acked.Add(1)
	case code == 409:
		st.conflict.Add(1)
	case code >= 500:
		st.unavailable.Add(1)
	default:
		st.other.Add(1)
	}
}

// deliverUntilAcked sends body until it is answered 2xx, as SIVO does
// (it retries every non-2xx), counting every answer in each of stats.
func deliverUntilAcked(ctx context.Context, s *webhooktest.Sender, url string, body []byte, stats ...*sendStats) error {
	for {
		code, err := s.Deliver(ctx, url, body)
		for _, st := range stats {
			st.count(code, err)
		}
		switch {
		case err != nil, code == 409, code >= 500: // retried
		case code >= 200 && code < 300:
			return nil
		default:
			return fmt.Errorf("answered %d", code)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// TestCrashLosesNothingAcknowledged SIGKILLs the receiver process twice
// while 2,000 deliveries (20 % duplicates, some concurrent) arrive, and
// restarts it each time. Every acknowledged event is processed; the write
// made through Tx exactly once, the one made outside it at least once.
//
// Each kill lands once a number of deliveries drawn from the seed is
// acknowledged, and with a callback stopped inside (the first to get there
// once that number is reached): for the first kill after its write outside
// the job's transaction, for the second after its write through Tx, before
// the transaction commits. Both run again after the restart: their event
// is written outside Tx twice and through Tx once. Every other callback,
// request and River job in flight is killed wherever it happens to be.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test takes about a minute per database")
	}
	// The three databases run at once: most of each run is waiting for
	// River's rescuer (it looks every 30 s) to rescue the jobs of the
	// killed process.
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) {
			if raceEnabled && k != kindPgx {
				t.Skip("under -race the child receivers run 10-30x slower; run the crash test without -race (pgx runs here)")
			}
			t.Parallel()
			testCrash(t, newTestDBKind(t, k))
		})
	}
}

func testCrash(t *testing.T, db *testDB) {
	addr := freeAddr(t)
	url := "http://" + addr + "/"
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 18))
	t.Logf("seed %d", seed)

	var childLog webhooktest.LogBuffer
	var child *exec.Cmd
	// receiver is one run of the receiver process: arm makes the next
	// callback to reach its hold step stop there, and held then receives
	// that callback's event id.
	type receiver struct {
		arm  func()
		held <-chan string
	}
	start := func(step int) receiver {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"=1", "RIVERINBOX_CHILD_DSN="+db.dsn, "RIVERINBOX_CHILD_KIND="+string(db.kind),
			"RIVERINBOX_CHILD_SCHEMA="+db.schema, "RIVERINBOX_CHILD_ADDR="+addr, fmt.Sprintf("RIVERINBOX_CHILD_HOLD_STEP=%d", step))
		cmd.Stdout, cmd.Stderr = &childLog, &childLog
		heldR, heldW, err := os.Pipe()
		require.NoError(t, err)
		armR, armW, err := os.Pipe()
		require.NoError(t, err)
		cmd.ExtraFiles = []*os.File{heldW, armR} // the child's descriptors 3 and 4
		require.NoError(t, cmd.Start())
		_, _ = heldW.Close(), armR.Close()
		child = cmd
		held := make(chan string, 1)
		go func() {
			defer heldR.Close()
			sc := bufio.NewScanner(heldR)
			if sc.Scan() {
				held <- sc.Text()
			}
		}()
		armed := false
		return receiver{arm: func() {
			if !armed {
				armed = true
				_, _ = armW.Write([]byte{1})
				_ = armW.Close()
			}
		}, held: held}
	}
	kill := func() {
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
	}

	const events = 1600
	bodies := make([][]byte, events)
	for i := range bodies {
		bodies[i] = sivoEvent(t, fmt.Sprintf("evt_crash_%04d", i))
	}
	plan := sendPlan(rng, events)
	require.Len(t, plan, 2000)
	killAt := []int64{int64(300 + rng.IntN(500)), int64(1000 + rng.IntN(600))}
	// Where the callback each kill finds stopped is: after its write
	// outside the job's transaction, then after its write through Tx.
	steps := []int{1, 2}
	cur := start(steps[0])
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			t.Logf("child output:\n%s", childLog.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var st sendStats
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, len(plan))
	t0 := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				if err := deliverUntilAcked(ctx, s, url, bodies[e], &st); err != nil {
					errs <- fmt.Errorf("event %d: %w", e, err)
				}
			}
		}()
	}
	killed := make(chan struct{})
	heldIDs := make([]string, len(killAt))
	go func() {
		defer close(killed)
		for i, at := range killAt {
			select {
			case <-st.acked.Reached(at):
			case <-ctx.Done():
			}
			// A callback gets there soon: the process runs until the
			// kill, and jobs keep coming (new events among the deliveries
			// still to be made, the backlog of stored ones, at worst the
			// jobs River rescues from the last kill).
			cur.arm()
			select {
			case heldIDs[i] = <-cur.held:
			case <-ctx.Done():
			}
			kill()
			t.Logf("SIGKILLed the receiver after %d acknowledgements (armed at %d; %v), the callback of %s stopped at step %d; restarting",
				st.acked.Load(), at, time.Since(t0).Round(time.Millisecond), heldIDs[i], steps[i])
			next := 0 // the last run stops nothing
			if i+1 < len(steps) {
				next = steps[i+1]
			}
			cur = start(next)
		}
	}()
	for _, e := range plan {
		work <- e
	}
	close(work)
	wg.Wait()
	<-killed
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sent := time.Since(t0)
	require.Equal(t, int64(len(plan)), st.acked.Load(), "every delivery was eventually acknowledged")

	// Every acknowledged event is processed, including the ones whose job
	// was running when the process died (River rescues them).
	require.Eventually(t, func() bool {
		return db.count(t, "SELECT count(DISTINCT id) FROM %sapplied") == events &&
			db.count(t, "SELECT count(*) FROM %sriver_job WHERE state <> 'completed'") == 0
	}, 150*time.Second, 100*time.Millisecond, "all acknowledged events processed")
	done := time.Since(t0)

	assert.Equal(t, events, db.count(t, "SELECT count(*) FROM %sriver_job"), "one job per event: duplicates stored nothing")
	assert.Equal(t, events, db.count(t, "SELECT count(*) FROM %sapplied"), "the write made through Tx applied exactly once per event")
	assert.Equal(t, 0, db.count(t, "SELECT count(*) FROM (SELECT id FROM %sapplied GROUP BY id HAVING count(*) > 1) d"))
	assert.Equal(t, events, db.count(t, "SELECT count(DISTINCT id) FROM %splain"))
	for i, id := range heldIDs {
		if id == "" {
			t.Errorf("kill %d: no callback was stopped inside before it", i+1)
			continue
		}
		assert.GreaterOrEqual(t, db.count(t, "SELECT count(*) FROM %splain WHERE id = $1", id), 2,
			"kill %d: the callback of %s, killed after its write outside Tx, ran again after the restart", i+1, id)
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = $1", id), "kill %d: %s applied through Tx once", i+1, id)
	}
	twice := db.count(t, "SELECT count(*) FROM (SELECT id FROM %splain GROUP BY id HAVING count(*) > 1) d")
	extra := db.count(t, "SELECT count(*) FROM %splain") - events
	t.Logf("2000 deliveries of %d events, 2 SIGKILLs: all acknowledged in %v, all processed after %v", events, sent.Round(time.Millisecond), done.Round(time.Millisecond))
	t.Logf("answers: %d 2xx, %d 409 (in flight), %d 5xx, %d connection errors (process down)",
		st.ok2xx.Load(), st.conflict.Load(), st.unavailable.Load(), st.connErr.Load())
	t.Logf("with Tx: %d events applied, 0 twice; without Tx: %d events ran twice (%d extra runs)", events, twice, extra)
}
