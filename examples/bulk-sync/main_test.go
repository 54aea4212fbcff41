package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBulkSyncCSV(t *testing.T) {
	var out bytes.Buffer
	failed, err := run(context.Background(), &out, "testdata/appointments.csv", 2, false, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, 2, failed)
	s := out.String()
	assert.Contains(t, s, "5/5 done, 3 synced, 2 failed")
	assert.Contains(t, s, "synced 3 of 5 records")
	assert.Contains(t, s, "row 3 (no external_id): siro: Sync.Engagements: invalid request: externalId is required")
	assert.Contains(t, s, "row 4 appt-1004: siro: Sync.Engagements: invalid request: engagement appt-1004: endTime")
}

func TestBulkSyncJSONInteractive(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	require.NoError(t, os.WriteFile(p, []byte(`[{"external_id":"a1","start":"2026-11-24T15:00:00Z"},{"external_id":"a2","start":"yesterday"}]`), 0o600))
	var out bytes.Buffer
	failed, err := run(context.Background(), &out, p, 100, true, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, 1, failed)
	assert.Contains(t, out.String(), "\r\033[K2/2 done, 1 synced, 1 failed")
	assert.Contains(t, out.String(), `row 2 a2: time "yesterday" is not RFC 3339`)
	_, err = run(context.Background(), &out, "nope.txt", 1, false, func(string) string { return "" })
	assert.Error(t, err)
}
