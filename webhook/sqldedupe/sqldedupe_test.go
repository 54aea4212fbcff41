package sqldedupe

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/webhook"
	_ "github.com/jackc/pgx/v5/stdlib" // test-only drivers
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

func newStore(t testing.TB, db *sql.DB, opts ...Option) *Store {
	table := sqldbtest.Table(t, db, "dedupe_test")
	s, err := New(db, append([]Option{WithTable(table)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, s.CreateTable(context.Background()))
	return s
}

// followClock moves the database's clock with the fake one, for every
// store given (replicas of one table): leases lapse when the test advances
// fake, as they would with time.
func followClock(fake webhook.Clock, stores ...*Store) {
	start := fake.Now()
	for _, s := range stores {
		s.dbOffset = func() time.Duration { return fake.Now().Sub(start) }
	}
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
	assert.Equal(t, PostgreSQL, s.dialect, "pgx's stdlib is detected without connecting")

	_, err = New(db, WithDialect(0))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	unknown := sqldbtest.UnknownDB(t)
	_, err = New(unknown)
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	assert.ErrorContains(t, err, "WithDialect", "the error names the option that fixes it")
	s, err = New(unknown, WithDialect(PostgreSQL))
	require.NoError(t, err)
	assert.Contains(t, s.qReserve, "clock_timestamp()")
}

func TestReserveCommitRelease(t *testing.T) { sqldbtest.Each(t, "dedupe.db", testReserveCommitRelease) }

func testReserveCommitRelease(t *testing.T, b sqldbtest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newStore(t, db, WithClock(fake), WithLease(time.Minute), WithTTL(time.Hour))
	followClock(fake, s)
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

func TestFailClosedAndOpen(t *testing.T) { sqldbtest.Each(t, "dedupe.db", testFailClosedAndOpen) }

// closedDB is a *sql.DB whose every statement fails: a database that is
// down.
func closedDB(t *testing.T, b sqldbtest.Backend) *sql.DB {
	db := b.Open(t)
	require.NoError(t, db.Close())
	return db
}

func testFailClosedAndOpen(t *testing.T, b sqldbtest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	s := newStore(t, db)
	closed := newStore(t, db)
	broken := closedDB(t, b)
	closed.db = broken
	_, err := closed.Reserve(ctx, "k")
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

	// A database error is never reported as "not the owner": the receiver
	// would give the reservation up although it may still hold it.
	r := webhook.Reservation{Key: "k", Token: "t", Expires: time.Now().Add(time.Minute)}
	_, err = closed.Extend(ctx, r)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, webhook.ErrNotOwner)
	assert.NotErrorIs(t, closed.Commit(ctx, r), webhook.ErrNotOwner)
	assert.NotErrorIs(t, closed.Release(ctx, r), webhook.ErrNotOwner)
}

// panicHandler is a slog.Handler that panics on every record.
type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (panicHandler) Handle(context.Context, slog.Record) error {
	panic("log handler exploded")
}

// TestPanickingLoggerFailOpen (issue 22): a WithLogger whose handler
// panics, on the fail-open path (the database is down): the delivery is
// processed and answered 200, never a panic that drops the connection
// (the sender saw EOF).
func TestPanickingLoggerFailOpen(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", testPanickingLoggerFailOpen)
}

func testPanickingLoggerFailOpen(t *testing.T, b sqldbtest.Backend) {
	db := b.Open(t)
	base := newStore(t, db)
	s, err := New(db, WithTable(base.table), FailOpen(), WithLogger(slog.New(panicHandler{})))
	require.NoError(t, err)
	s.db = closedDB(t, b)
	res, err := s.Reserve(context.Background(), "evt_log")
	require.NoError(t, err, "fail-open: processed while the database is down, the logger's panic recovered")
	assert.Equal(t, "evt_log", res.Key)

	v, _ := webhook.NewHMAC("X-Sig", "", "s")
	mw, err := webhook.Middleware(v, webhook.WithDedupe(s), webhook.WithKey(webhook.HeaderKey("X-Id")))
	require.NoError(t, err)
	called := false
	srv := httptest.NewServer(mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })))
	defer srv.Close()
	signer, _ := webhook.NewHMACSigner("X-Sig", "", "s")
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
	req.Header.Set("X-Id", "evt_1")
	_ = signer.SignHeader(req.Header, []byte("{}"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the sender gets an answer, not EOF")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, called)
}

// skewed is a replica's clock off by d from the others'.
type skewed struct{ d time.Duration }

func (c skewed) Now() time.Time                         { return time.Now().Add(c.d) }
func (c skewed) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestLeaseJudgedByDatabaseClock (issue 22): replica B's clock runs 3 s
// ahead of replica A's, the lease is 2 s. A holds a delivery; B must not
// judge A's live reservation lapsed by its own clock (the delivery ran
// twice at once), nor commit over it, nor clean it up; and A, 3 s behind
// B, must not keep a reservation B's clock thinks lapsed from being taken
// once the database says it lapsed.
func TestLeaseJudgedByDatabaseClock(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", testLeaseJudgedByDatabaseClock)
}

func testLeaseJudgedByDatabaseClock(t *testing.T, b sqldbtest.Backend) {
	ctx := context.Background()
	const lease = 2 * time.Second
	a := newStore(t, b.Open(t), WithLease(lease), WithTTL(time.Hour))
	ahead, err := New(b.Open(t), WithTable(a.table), WithLease(lease), WithTTL(time.Hour), WithClock(skewed{3 * time.Second}))
	require.NoError(t, err)
	behind, err := New(b.Open(t), WithTable(a.table), WithLease(lease), WithTTL(time.Hour), WithClock(skewed{-3 * time.Second}))
	require.NoError(t, err)

	held, err := a.Reserve(ctx, "evt_skew")
	require.NoError(t, err)
	_, err = ahead.Reserve(ctx, "evt_skew")
	assert.ErrorIs(t, err, webhook.ErrInProgress, "a replica 3 s ahead must not take a live 2 s lease")
	assert.ErrorIs(t, ahead.Commit(ctx, webhook.Reservation{Key: "evt_skew", Token: "another-delivery"}), webhook.ErrNotOwner,
		"nor commit over it")
	n, err := ahead.Cleanup(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nor clean it up")
	held, err = a.Extend(ctx, held)
	require.NoError(t, err, "the holder still owns it")

	// The replica 3 s behind reserves: its Expires is on its own clock
	// (what its receiver renews by), and the database's lease holds for
	// the others whatever its clock says.
	r2, err := behind.Reserve(ctx, "evt_skew_2")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(-3*time.Second+lease), r2.Expires, time.Second)
	_, err = ahead.Reserve(ctx, "evt_skew_2")
	assert.ErrorIs(t, err, webhook.ErrInProgress)
	require.NoError(t, a.Commit(ctx, held))
	_, err = ahead.Reserve(ctx, "evt_skew")
	assert.ErrorIs(t, err, webhook.ErrDuplicate)
}

// TestConcurrentReplicas: 8 replicas with their own connection pools
// deliver the same 1,000 event ids with random handler failures; every id
// ends committed exactly once and no handler ran twice for it.
func TestConcurrentReplicas(t *testing.T) { sqldbtest.Each(t, "dedupe.db", testConcurrentReplicas) }

func testConcurrentReplicas(t *testing.T, b sqldbtest.Backend) {
	ctx := context.Background()
	base := newStore(t, b.Open(t), WithLease(time.Minute))
	ids := 1000
	if b.Name == "SQLite" {
		ids = 300 // one writer at a time, and the race detector slows the pure-Go engine
	}
	var mu sync.Mutex
	processed := make(map[string]int, ids)
	var committed atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < 8; r++ {
		db := b.Open(t) // its own connections
		db.SetMaxOpenConns(2)
		replica := *base
		replica.db = db
		wg.Add(1)
		go func(r int, s *Store) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 99))
			order := rng.Perm(ids)
			for pass := 0; committed.Load() < int64(ids) && pass < 50; pass++ {
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

// BenchmarkReserveCommit: one event through reserve + commit, on SQLite
// (a file) and PostgreSQL (over loopback).
func BenchmarkReserveCommit(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) { benchReserveCommit(b, sqldbtest.SQLite(b, "dedupe.db")) })
	b.Run("PostgreSQL", func(b *testing.B) { benchReserveCommit(b, sqldbtest.Postgres(b)) })
}

func benchReserveCommit(b *testing.B, be sqldbtest.Backend) {
	ctx := context.Background()
	s := newStore(b, be.Open(b))
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

// TestSkewedReplicaNeverRunsTwiceAtOnce (issue 22), end to end: two
// replicas behind the webhook middleware, B's clock 3 s ahead of A's, a
// 2 s lease. While A's handler runs, B answers the vendor's retry 409 and
// does not run the handler; after A's 200, B answers 200 (duplicate).
func TestSkewedReplicaNeverRunsTwiceAtOnce(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", func(t *testing.T, b sqldbtest.Backend) {
		const lease = 2 * time.Second
		sa := newStore(t, b.Open(t), WithLease(lease))
		sb, err := New(b.Open(t), WithTable(sa.table), WithLease(lease), WithClock(skewed{3 * time.Second}))
		require.NoError(t, err)
		var running, runs atomic.Int32
		entered, release := make(chan struct{}, 1), make(chan struct{})
		handler := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			runs.Add(1)
			defer running.Add(-1)
			if running.Add(1) > 1 {
				t.Error("the delivery ran twice at once")
				return
			}
			entered <- struct{}{}
			<-release
		})
		v, _ := webhook.NewHMAC("X-Sig", "", "s")
		replica := func(s *Store, opts ...webhook.Option) *httptest.Server {
			mw, err := webhook.Middleware(v, append(opts, webhook.WithDedupe(s), webhook.WithKey(webhook.HeaderKey("X-Id")))...)
			require.NoError(t, err)
			srv := httptest.NewServer(mw(handler))
			t.Cleanup(srv.Close)
			return srv
		}
		a, bsrv := replica(sa), replica(sb, webhook.WithClock(skewed{3 * time.Second}))
		signer, _ := webhook.NewHMACSigner("X-Sig", "", "s")
		send := func(srv *httptest.Server) int {
			req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
			req.Header.Set("X-Id", "evt_skewed")
			_ = signer.SignHeader(req.Header, []byte("{}"))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		first := make(chan int, 1)
		go func() { first <- send(a) }()
		<-entered
		assert.Equal(t, http.StatusConflict, send(bsrv), "the replica 3 s ahead sees the delivery in progress")
		close(release)
		assert.Equal(t, http.StatusOK, <-first)
		assert.Equal(t, http.StatusOK, send(bsrv), "then a duplicate")
		assert.Equal(t, int32(1), runs.Load())
	})
}
