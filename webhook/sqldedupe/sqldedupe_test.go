package sqldedupe

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/webhook"
	_ "github.com/jackc/pgx/v5/stdlib" // test-only driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postgresDSN returns the test server's address. Without one the tests
// skip with instructions, except under CI (.ci/run starts a server and sets
// CALLCRM_REQUIRE_POSTGRES), where they must run.
func postgresDSN(t testing.TB) string {
	dsn := os.Getenv("CALLCRM_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CALLCRM_REQUIRE_POSTGRES") != "" {
			t.Fatal("CALLCRM_REQUIRE_POSTGRES is set but CALLCRM_TEST_POSTGRES is empty")
		}
		t.Skip("no PostgreSQL: set CALLCRM_TEST_POSTGRES=postgres://user@host:port/db, or from the repository root run `bash -c 'source .ci/postgres && ./.ci/test'`")
	}
	return dsn
}

var tableSeq atomic.Int64

func openDB(t testing.TB) *sql.DB {
	db, err := sql.Open("pgx", postgresDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Ping())
	return db
}

func newStore(t testing.TB, db *sql.DB, opts ...Option) *Store {
	table := fmt.Sprintf("dedupe_test_%d_%d", time.Now().UnixNano()%1e9, tableSeq.Add(1))
	s, err := New(db, append([]Option{WithTable(table)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, s.CreateTable(context.Background()))
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS " + table) })
	return s
}

func TestOptionsValidate(t *testing.T) {
	db, _ := sql.Open("pgx", "postgres://invalid")
	for _, name := range []string{"", "x; DROP TABLE users", "a.b.c", "1abc", "t-1", `"quoted"`} {
		_, err := New(db, WithTable(name))
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, name)
	}
	_, err := New(nil)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	_, err = New(db, WithLease(0))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	_, err = New(db, WithTTL(-time.Second))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	s, err := New(db, WithTable("crm.webhook_dedupe"))
	require.NoError(t, err)
	assert.Equal(t, "crm.webhook_dedupe", s.table)
	ddl, err := DDL("crm.webhook_dedupe")
	require.NoError(t, err)
	assert.Contains(t, ddl[1], "webhook_dedupe_expires_at ON crm.webhook_dedupe")
}

func TestReserveCommitRelease(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newStore(t, db, WithClock(fake), WithLease(time.Minute), WithTTL(time.Hour))
	other := &Store{}
	*other = *s // a second replica on the same table

	r1, err := s.Reserve(ctx, "evt_1")
	require.NoError(t, err)
	_, err = other.Reserve(ctx, "evt_1")
	assert.ErrorIs(t, err, webhook.ErrInProgress)
	assert.ErrorIs(t, other.Release(ctx, webhook.Reservation{Key: "evt_1", Token: "not-ours"}), webhook.ErrNotOwner,
		"another replica cannot release our reservation")
	_, err = other.Reserve(ctx, "evt_1")
	assert.ErrorIs(t, err, webhook.ErrInProgress)
	require.NoError(t, s.Release(ctx, r1))
	r2, err := other.Reserve(ctx, "evt_1")
	require.NoError(t, err, "released: the retry goes through on any replica")
	require.NoError(t, other.Commit(ctx, r2))
	_, err = s.Reserve(ctx, "evt_1")
	assert.ErrorIs(t, err, webhook.ErrDuplicate)

	// A replica dies mid-handler: after the lease the next retry is
	// processed, and the dead replica's late commit or release cannot touch it.
	dead, err := s.Reserve(ctx, "evt_2")
	require.NoError(t, err)
	fake.Advance(59 * time.Second)
	_, err = other.Reserve(ctx, "evt_2")
	assert.ErrorIs(t, err, webhook.ErrInProgress)
	fake.Advance(2 * time.Second)
	live, err := other.Reserve(ctx, "evt_2")
	require.NoError(t, err)
	assert.ErrorIs(t, s.Release(ctx, dead), webhook.ErrNotOwner)
	assert.ErrorIs(t, s.Commit(ctx, dead), webhook.ErrNotOwner)
	_, err = s.Extend(ctx, dead)
	assert.ErrorIs(t, err, webhook.ErrNotOwner)
	fake.Advance(50 * time.Second)
	live, err = other.Extend(ctx, live)
	require.NoError(t, err)
	fake.Advance(50 * time.Second)
	_, err = s.Reserve(ctx, "evt_2")
	assert.ErrorIs(t, err, webhook.ErrInProgress, "extended: still held past the first lease")
	require.NoError(t, other.Commit(ctx, live))

	// Committed keys expire after the TTL, and Cleanup removes them in batches.
	fake.Advance(time.Hour + time.Second)
	s.batch = 1
	n, err := s.Cleanup(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	_, err = s.Reserve(ctx, "evt_1")
	require.NoError(t, err)
}

func TestFailClosedAndOpen(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := newStore(t, db)
	closed := newStore(t, db)
	broken, err := sql.Open("pgx", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	require.NoError(t, err)
	defer broken.Close()
	closed.db = broken
	_, err = closed.Reserve(ctx, "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sqldedupe: reserve")

	// Through the middleware: fail-closed answers 503 so the vendor retries.
	v, _ := webhook.NewHMAC("X-Sig", "", "s")
	mw, err := webhook.Middleware(v, webhook.WithDedupe(closed), webhook.WithKey(webhook.HeaderKey("X-Id")))
	require.NoError(t, err)
	called := false
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	signer, _ := webhook.NewHMACSigner("X-Sig", "", "s")
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	req.Header.Set("X-Id", "evt_1")
	_ = signer.SignHeader(req.Header, []byte("{}"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 503, rec.Code)
	assert.False(t, called, "fail-closed: the handler does not run without a reservation")

	open := *s
	open.db = broken
	open.failOpen = true
	_, err = open.Reserve(ctx, "k")
	assert.NoError(t, err, "fail-open processes while the database is down")
}

// TestConcurrentReplicas: 8 replicas with their own connection pools
// deliver the same 1,000 event ids with random handler failures; every id
// ends committed exactly once and no handler ran twice for it.
func TestConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	base := newStore(t, openDB(t), WithLease(time.Minute))
	const ids = 1000
	var mu sync.Mutex
	processed := make(map[string]int, ids)
	var committed atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 8; r++ {
		db := openDB(t) // its own connections
		db.SetMaxOpenConns(2)
		replica := *base
		replica.db = db
		wg.Add(1)
		go func(r int, s *Store) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 99))
			order := rng.Perm(ids)
			for pass := 0; committed.Load() < ids && pass < 50; pass++ {
				for _, i := range order {
					key := fmt.Sprintf("evt_%04d", i)
					res, err := s.Reserve(ctx, key)
					if err != nil {
						continue // duplicate or in progress elsewhere
					}
					if rng.IntN(5) == 0 { // the handler failed
						if err := s.Release(ctx, res); err != nil {
							t.Error(err)
						}
						continue
					}
					mu.Lock()
					processed[key]++
					mu.Unlock()
					if err := s.Commit(ctx, res); err != nil {
						t.Error(err)
						continue
					}
					committed.Add(1)
				}
			}
		}(r, &replica)
	}
	wg.Wait()
	require.Equal(t, int64(ids), committed.Load())
	require.Len(t, processed, ids)
	for k, n := range processed {
		require.Equal(t, 1, n, k)
	}
	var rows int
	require.NoError(t, base.db.QueryRow("SELECT count(*) FROM "+base.table+" WHERE state = 1").Scan(&rows))
	assert.Equal(t, ids, rows)
}

// BenchmarkReserveCommit: one event through reserve + commit on PostgreSQL
// over loopback.
func BenchmarkReserveCommit(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, openDB(b))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := fmt.Sprintf("bench_%d", i)
		res, err := s.Reserve(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx, res); err != nil {
			b.Fatal(err)
		}
	}
}
