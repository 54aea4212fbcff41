package sqldbtest

import (
	"os"
	"strings"
	"testing"
)

func TestSQLiteDSNHasTheSettingsTheStoresCheck(t *testing.T) {
	dsn := SQLiteDSN("/tmp/x.db")
	for _, want := range []string{"file:/tmp/x.db?", "busy_timeout(10000)", "journal_mode(WAL)", "_txlock=immediate"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("SQLiteDSN = %q, missing %q", dsn, want)
		}
	}
}

func TestPostgresDSNReadsTheEnvironment(t *testing.T) {
	if os.Getenv("CALLCRM_TEST_POSTGRES") == "" {
		t.Skip("CALLCRM_TEST_POSTGRES not set")
	}
	if got := PostgresDSN(t); got != os.Getenv("CALLCRM_TEST_POSTGRES") {
		t.Fatalf("PostgresDSN = %q", got)
	}
}
