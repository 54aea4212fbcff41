package riverinbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"
)

// TestJSONIndexesOnlyInRiverMigration2: River's migrations create the
// GIN indexes Migrate drops in version 2 and mention them nowhere else.
// A River upgrade that adds a migration touching them (which would fail
// where the inbox dropped them) fails this test first.
func TestJSONIndexesOnlyInRiverMigration2(t *testing.T) {
	pgx, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	require.NoError(t, err)
	sql, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	require.NoError(t, err)
	for name, all := range map[string][]rivermigrate.Migration{"riverpgxv5": pgx.AllVersions(), "riverdatabasesql": sql.AllVersions()} {
		require.NotEmpty(t, all, name)
		for _, m := range all {
			for _, ix := range jsonIndexes {
				up, down := strings.Contains(m.SQLUp, ix), strings.Contains(m.SQLDown, ix)
				if m.Version == 2 {
					require.True(t, up, "%s: migration 2 creates %s", name, ix)
					require.False(t, down, "%s: migration 2's down drops the tables, not %s", name, ix)
					continue
				}
				require.False(t, up || down, "%s: migration %d (%s) mentions %s: re-create it before River's migrations run, or keep it", name, m.Version, m.Name, ix)
			}
		}
	}
}

// TestMigrateDropsJSONIndexes: in the inbox's own schema Migrate leaves
// River's other indexes and drops the two GIN indexes, again and again
// (every replica calls Migrate at startup), and the inbox still stores
// and refuses duplicates without them.
func TestMigrateDropsJSONIndexes(t *testing.T) {
	for _, k := range []dbKind{kindPgx, kindSQLPG} {
		t.Run(string(k), func(t *testing.T) {
			db := newTestDBKind(t, k) // runs Migrate once
			ctx := context.Background()
			in := db.newInbox(t)
			require.NoError(t, in.Migrate(ctx))
			indexes := schemaIndexes(t, db.pool, db.schema)
			for _, ix := range jsonIndexes {
				require.NotContains(t, indexes, ix)
			}
			require.Contains(t, indexes, "river_job_kind", "River's other indexes stay")
			require.Contains(t, indexes, "river_job_unique_idx", "River's other indexes stay")
			srv := httptest.NewServer(newSivoHandler(t, in, sivo.Callbacks{}))
			defer srv.Close()
			s, _ := sivotest.NewSender(testSecret)
			body := sivoEvent(t, "evt_noindex")
			for range 2 { // the second is a duplicate, answered 2xx
				code, err := s.Deliver(ctx, srv.URL, body)
				require.NoError(t, err)
				require.Equal(t, 200, code)
			}
			var n int
			require.NoError(t, db.pool.QueryRow(ctx, "SELECT count(*) FROM "+db.schema+".river_job").Scan(&n))
			require.Equal(t, 1, n, "stored once")
		})
	}
}

// TestMigrateKeepsJSONIndexesInSearchPath: with WithSchema("") the inbox
// shares whatever schema the connection's search_path names, maybe with
// other River clients, so their indexes stay.
func TestMigrateKeepsJSONIndexesInSearchPath(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer admin.Close()
	schema := fmt.Sprintf("riverinbox_sp%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	in, err := NewPgx(pool, WithSchema(""), WithLogger(quietLogger()))
	require.NoError(t, err)
	require.NoError(t, in.Migrate(ctx))
	indexes := schemaIndexes(t, admin, schema)
	for _, ix := range jsonIndexes {
		require.Contains(t, indexes, ix)
	}
}

func schemaIndexes(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT indexname FROM pg_indexes WHERE schemaname = $1", schema)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestMigrationsMention: a migration other than 2 that mentions an index,
// up or down, is found (Migrate then keeps the indexes).
func TestMigrationsMention(t *testing.T) {
	two := rivermigrate.Migration{Version: 2, SQLUp: "CREATE INDEX river_job_args_index ..."}
	require.False(t, migrationsMention([]rivermigrate.Migration{two, {Version: 7, SQLUp: "ALTER TABLE river_job ..."}}, jsonIndexes))
	require.True(t, migrationsMention([]rivermigrate.Migration{two, {Version: 8, SQLUp: "DROP INDEX river_job_args_index;"}}, jsonIndexes))
	require.True(t, migrationsMention([]rivermigrate.Migration{two, {Version: 8, SQLDown: "CREATE INDEX river_job_metadata_index ..."}}, jsonIndexes))
}
