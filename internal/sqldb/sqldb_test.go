package sqldb

import "testing"

func TestDialectOf(t *testing.T) {
	for pkg, want := range map[string]Dialect{
		"github.com/jackc/pgx/v5/stdlib":       PostgreSQL,
		"github.com/jackc/pgx/v4/stdlib":       PostgreSQL,
		"github.com/lib/pq":                    PostgreSQL,
		"modernc.org/sqlite":                   SQLite,
		"github.com/mattn/go-sqlite3":          SQLite,
		"github.com/ncruces/go-sqlite3/driver": SQLite,
		"github.com/XSAM/otelsql":              Unknown,
		"":                                     Unknown,
	} {
		if got := dialectOf(pkg); got != want {
			t.Errorf("dialectOf(%q) = %v, want %v", pkg, got, want)
		}
	}
}
