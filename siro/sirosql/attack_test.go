package sirosql

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSchemaQualifiedTable: WithTable accepts "schema.table"; the
// limiter's and the checkpoint's statements work with one on both
// databases (the limiter's upsert names the table in its SET clause).
func TestSchemaQualifiedTable(t *testing.T) {
	sqldbtest.Each(t, "sirosql.db", testSchemaQualifiedTable)
}

func testSchemaQualifiedTable(t *testing.T, be sqldbtest.Backend) {
	ctx := context.Background()
	db := be.Open(t)
	schema := "main"
	if be.Name == "PostgreSQL" {
		schema = "public"
	}
	table := schema + "." + sqldbtest.Table(t, db, "rl_schema")
	clk := clock.NewFake(start)
	l, err := NewLimiter(db, "b", 60, WithTable(table), WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, l.CreateTable(ctx))
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS " + table) })
	a, err := l.Reserve(ctx)
	require.NoError(t, err)
	b, err := l.Reserve(ctx)
	require.NoError(t, err)
	assert.True(t, a.Equal(start), "%v", a)
	assert.True(t, b.Equal(start.Add(time.Second)), "%v", b)

	cpTable := schema + "." + sqldbtest.Table(t, db, "cp_schema")
	cp, err := NewCheckpoint(db, "job", WithTable(cpTable))
	require.NoError(t, err)
	require.NoError(t, cp.CreateTable(ctx))
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS " + cpTable) })
	require.NoError(t, cp.Save(ctx, 5))
	require.NoError(t, cp.Save(ctx, 7))
	n, err := cp.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7), n)
}

// TestCheckpointNeverMovesBack: two replicas running one job (each with its
// own pool and Checkpoint) save their own settled prefix; the slower one's
// Save must not take the job back below what the faster one settled (the
// next run would send those records again).
func TestCheckpointNeverMovesBack(t *testing.T) {
	sqldbtest.Each(t, "sirosql.db", testCheckpointNeverMovesBack)
}

func testCheckpointNeverMovesBack(t *testing.T, be sqldbtest.Backend) {
	ctx := context.Background()
	db := be.Open(t)
	table := sqldbtest.Table(t, db, "cp_back")
	a, err := NewCheckpoint(db, "backfill", WithTable(table))
	require.NoError(t, err)
	require.NoError(t, a.CreateTable(ctx))
	b, err := NewCheckpoint(be.Open(t), "backfill", WithTable(table))
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, 500))
	require.NoError(t, b.Save(ctx, 200))
	n, err := a.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(500), n, "the furthest settled prefix is kept")
	require.NoError(t, b.Reset(ctx))
	require.NoError(t, b.Save(ctx, 200))
	n, err = a.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(200), n, "after Reset a run starts over")
}
