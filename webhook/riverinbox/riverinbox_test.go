package riverinbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidate(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	defer pool.Close()
	_, err = NewPgx(nil)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	_, err = NewSQL(nil)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	_, err = NewSQLite(nil)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	for name, o := range map[string]Option{
		"schema":        WithSchema("x; DROP TABLE river_job"),
		"schema dotted": WithSchema("a.b"),
		"queue":         WithQueue("Not A Queue"),
		"workers":       WithWorkers(0),
		"attempts":      WithMaxAttempts(0),
		"timeout":       WithJobTimeout(-time.Second),
		"rescue":        WithRescueAfter(0),
		"retention":     WithRetention(0),
		"dead letter":   WithDeadLetterRetention(-1),
		"poll":          WithPollInterval(time.Millisecond),
		"batch":         WithMaxBatch(0),
		"observer":      WithObserver(nil),
		"nil":           nil,
	} {
		_, err := NewPgx(pool, o)
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, name)
	}
	_, err = NewPgx(pool, WithJobTimeout(time.Minute), WithRescueAfter(30*time.Second))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption, "rescue must exceed the job timeout")

	in, err := NewPgx(pool, WithSchema("crm"), WithQueue("crm-hooks"), WithWorkers(3))
	require.NoError(t, err)
	assert.NotNil(t, in.Client())
	noop := func(context.Context, *webhook.Event) error { return nil }
	require.NoError(t, in.Register("sivo/default", noop))
	assert.ErrorIs(t, in.Register("sivo/default", noop), webhook.ErrInvalidOption, "registered twice")
	assert.ErrorIs(t, in.Register("sivo/other", nil), webhook.ErrInvalidOption)
	assert.ErrorIs(t, in.Enqueue(context.Background(), &webhook.Event{Provider: "siro", Receiver: "default", ID: "x"}), webhook.ErrInvalidOption, "unknown receiver")
	assert.ErrorIs(t, in.Enqueue(context.Background(), nil), webhook.ErrMalformed)

	_, ok := Tx[pgx.Tx](context.Background())
	assert.False(t, ok, "no transaction outside a job")
}

// A database the inbox cannot reach answers 503 (the vendor retries), and
// the error names neither the body nor the password.
func TestEnqueueFailureAnswers503(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://crm:hunter2-password@127.0.0.1:1/crm?connect_timeout=1")
	require.NoError(t, err)
	defer pool.Close()
	in, err := NewPgx(pool)
	require.NoError(t, err)
	var hooked []error
	var mu sync.Mutex
	h := newSivoHandler(t, in, sivo.Callbacks{}, webhook.WithErrorHook(func(_ *http.Request, err error) {
		mu.Lock()
		hooked = append(hooked, err)
		mu.Unlock()
	}))
	s, _ := sivotest.NewSender(testSecret)
	body := sivoEvent(t, "evt_down")
	assert.Equal(t, 503, s.Serve(h, body))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hooked, 1)
	assert.NotContains(t, hooked[0].Error(), "hunter2")
	assert.NotContains(t, hooked[0].Error(), string(body))
	assert.ErrorIs(t, hooked[0], webhook.ErrStoreUnavailable)
}

func TestEnqueueThenProcessOnce(t *testing.T) { eachDB(t, testEnqueueThenProcessOnce) }

func testEnqueueThenProcessOnce(t *testing.T, db *testDB) {
	in := db.newInbox(t)
	type seen struct {
		raw []byte
		typ string
	}
	got := make(chan seen, 10)
	h := newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		got <- seen{raw: ev.Raw, typ: string(ev.Type)}
		return nil
	}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, _ := sivotest.NewSender(testSecret)
	body := sivoEvent(t, "evt_once")

	code, err := s.Deliver(context.Background(), srv.URL, body)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	// The job is stored before the 2xx, even with no worker running.
	assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind))
	// A redelivery to a fresh receiver (another replica: its in-memory
	// dedupe knows nothing) stores nothing and is acknowledged.
	in2 := db.newInbox(t)
	h2 := newSivoHandler(t, in2, sivo.Callbacks{})
	assert.Equal(t, 200, s.Serve(h2, body))
	assert.Equal(t, 200, s.Serve(h, body))
	assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind))
	err = in2.Enqueue(context.Background(), &webhook.Event{Provider: "sivo", Receiver: "default", ID: "evt_once", Raw: body})
	assert.ErrorIs(t, err, webhook.ErrDuplicate)

	startInbox(t, in)
	select {
	case sw := <-got:
		assert.True(t, bytes.Equal(body, sw.raw), "the callback sees the exact verified bytes")
		assert.Equal(t, string(sivo.EventCallEnded), sw.typ)
	case <-time.After(10 * time.Second):
		t.Fatal("delivery not processed")
	}
	require.Eventually(t, func() bool {
		return db.count(t, "SELECT count(*) FROM %sriver_job WHERE state = 'completed'") == 1
	}, 10*time.Second, 20*time.Millisecond)
	// Done deliveries stay unique: a redelivery after completion stores nothing.
	assert.Equal(t, 200, s.Serve(newSivoHandler(t, db.newInbox(t), sivo.Callbacks{}), body))
	assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job"))
	select {
	case <-got:
		t.Fatal("processed twice")
	case <-time.After(300 * time.Millisecond):
	}
}

// A callback that fails after writing through Tx leaves nothing behind;
// its retry writes once and completes the job in the same transaction.
func TestTxRollsBackFailuresAndCompletesAtomically(t *testing.T) {
	eachDB(t, testTxRollsBack)
}

func testTxRollsBack(t *testing.T, db *testDB) {
	in := db.newInbox(t)
	var calls atomic.Int32
	h := newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		if err := txExec(ctx, db, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID); err != nil {
			return err
		}
		if calls.Add(1) == 1 {
			return errors.New("CRM said no")
		}
		return nil
	}})
	s, _ := sivotest.NewSender(testSecret)
	require.Equal(t, 200, s.Serve(h, sivoEvent(t, "evt_tx")))
	startInbox(t, in)
	require.Eventually(t, func() bool {
		return db.count(t, "SELECT count(*) FROM %sriver_job WHERE state = 'completed'") == 1
	}, 15*time.Second, 20*time.Millisecond, "retried after River's first backoff (about 1 s)")
	assert.Equal(t, int32(2), calls.Load())
	assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'evt_tx'"), "the failed attempt's write was rolled back")
}

// Two replicas on one database: deliveries to either are processed once,
// by whichever replica's worker takes them. No callback returns before
// both replicas have started one, so both take jobs, at the same time: a
// replica's 50 workers cannot hold all 60 events.
func TestTwoReplicas(t *testing.T) {
	db := newTestDB(t)
	var mu sync.Mutex
	byReplica := map[string]map[string]int{"a": {}, "b": {}}
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	once := map[string]*sync.Once{"a": {}, "b": {}}
	other := map[string]string{"a": "b", "b": "a"}
	mk := func(name string) string {
		in := db.newInbox(t, WithWorkers(50)) // fewer than the events
		h := newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			once[name].Do(func() { close(started[name]) })
			select {
			case <-started[other[name]]:
			case <-ctx.Done(): // the other replica never took a job (the wait below fails first)
				return ctx.Err()
			}
			mu.Lock()
			byReplica[name][ev.ID]++
			mu.Unlock()
			return nil
		}})
		startInbox(t, in)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	urls := []string{mk("a"), mk("b")}
	s, _ := sivotest.NewSender(testSecret)
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		for r := range 2 { // every event to both replicas, concurrently
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := sivoEvent(t, fmt.Sprintf("evt_rep_%d", i))
				for range 100 { // the sender retries what was not acknowledged
					code, err := s.Deliver(context.Background(), urls[(i+r)%2], body)
					if err == nil && code == 200 {
						return
					}
				}
				t.Errorf("evt_rep_%d never acknowledged", i)
			}()
		}
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		return db.count(t, "SELECT count(*) FROM %sriver_job WHERE state = 'completed'") == n
	}, 20*time.Second, 20*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	total := map[string]int{}
	for _, m := range byReplica {
		for id, c := range m {
			total[id] += c
		}
	}
	assert.Len(t, total, n)
	for id, c := range total {
		assert.Equal(t, 1, c, id)
	}
	assert.NotEmpty(t, byReplica["a"], "replica a processed none")
	assert.NotEmpty(t, byReplica["b"], "replica b processed none")
	t.Logf("replica a processed %d, replica b %d", len(byReplica["a"]), len(byReplica["b"]))
}

// The answer does not wait for the callback: a 5 s callback, 2xx in well
// under 50 ms at the median over loopback.
func TestLatencyIndependentOfCallback(t *testing.T) {
	db := newTestDB(t)
	in := db.newInbox(t, WithWorkers(4))
	var started atomic.Int32
	h := newSivoHandler(t, in, sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		started.Add(1)
		select {
		case <-time.After(5 * time.Second): // a slow CRM
		case <-ctx.Done():
		}
		return nil
	}})
	startInbox(t, in)
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, _ := sivotest.NewSender(testSecret)
	s.Client = keepAliveClient(2)
	var took []time.Duration
	for i := range 40 {
		body := sivoEvent(t, fmt.Sprintf("evt_lat_%d", i))
		t0 := time.Now()
		code, err := s.Deliver(context.Background(), srv.URL, body)
		took = append(took, time.Since(t0))
		require.NoError(t, err)
		require.Equal(t, 200, code)
	}
	require.Eventually(t, func() bool { return started.Load() >= 4 }, 10*time.Second, 10*time.Millisecond,
		"callbacks are running (each for 5 s) while deliveries are answered")
	med := median(took)
	maxd := took[0]
	for _, d := range took {
		maxd = max(maxd, d)
	}
	t.Logf("latency with a 5 s callback: median %v, max %v over %d deliveries", med, maxd, len(took))
	assert.Less(t, med, 50*time.Millisecond)
}
