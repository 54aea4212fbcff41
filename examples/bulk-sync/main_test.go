package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func noEnv(string) string { return "" }

func TestBulkSyncCSV(t *testing.T) {
	var out bytes.Buffer
	report := filepath.Join(t.TempDir(), "failed.csv")
	failed, err := run(context.Background(), &out, config{file: "testdata/appointments.csv", batch: 2, failures: report}, noEnv)
	require.NoError(t, err)
	assert.Equal(t, 2, failed)
	s := out.String()
	assert.Contains(t, s, "5 done, 3 synced, 2 failed")
	assert.Contains(t, s, "synced 3 of 5 rows")
	assert.Contains(t, s, "row 3 (no external_id): siro: Sync.Engagements: invalid request: externalId is required")
	assert.Contains(t, s, "row 4 appt-1004: siro: Sync.Engagements: invalid request: engagement appt-1004: endTime")
	assert.Contains(t, s, "failed rows written to "+report)
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "row,external_id,reason", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "3,,siro: Sync.Engagements: invalid request: externalId is required"), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "4,appt-1004,"), lines[2])
}

func TestBulkSyncJSONInteractive(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	require.NoError(t, os.WriteFile(p, []byte(`[{"external_id":"a1","start":"2026-11-24T15:00:00Z"},{"external_id":"a2","start":"yesterday"}]`), 0o600))
	var out bytes.Buffer
	failed, err := run(context.Background(), &out, config{file: p, batch: 100, interactive: true}, noEnv)
	require.NoError(t, err)
	assert.Equal(t, 1, failed)
	s := out.String()
	assert.Contains(t, s, "\r\033[K[==============================] 100% 2 done, 1 synced, 1 failed, ")
	assert.Contains(t, s, "rows/s, ETA 0s\n")
	assert.Contains(t, s, `row 2 a2: time "yesterday" is not RFC 3339`)
	_, err = run(context.Background(), &out, config{file: "nope.txt", batch: 1}, noEnv)
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.txt"), nil, 0o600))
	_, err = run(context.Background(), &out, config{file: filepath.Join(dir, "b.txt"), batch: 1}, noEnv)
	assert.ErrorContains(t, err, "want a .csv, .json, .jsonl or .ndjson file")
}

func TestBulkSyncJSONLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(`{"external_id":"a1","subject":"One"}
{"external_id":5}
{"external_id":"a3","activity_type":"meeting"}
`), 0o600))
	var out bytes.Buffer
	failed, err := run(context.Background(), &out, config{file: p, batch: 10}, noEnv)
	require.NoError(t, err)
	assert.Equal(t, 1, failed)
	assert.Contains(t, out.String(), "synced 2 of 3 rows")
	assert.Contains(t, out.String(), "row 2 (no external_id): unreadable JSON object")
}

// lockedBuffer lets the test read what run wrote so far.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	on func(string)
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on != nil {
		l.on(string(p))
	}
	return l.b.Write(p)
}

// TestBulkSyncResume interrupts a run after its first batch and resumes it
// from the checkpoint file: the second run skips what the first settled.
func TestBulkSyncResume(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "big.csv")
	var b strings.Builder
	b.WriteString("external_id,subject\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "appt-%04d,Visit %d\n", i, i)
	}
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o600))
	ckpt := filepath.Join(dir, "big.ckpt")
	report := filepath.Join(dir, "failed.csv")
	cfg := config{file: file, batch: 100, checkpoint: ckpt, failures: report}

	// "Kill" the run as soon as a batch is reported. Batches finish out of
	// order, so the first one reported may not be the first one sent and
	// the checkpoint (the contiguous settled prefix) may still be 0: then
	// kill again from scratch, as an operator would find nothing to resume.
	var saved int64
	for attempt := 0; attempt < 20 && saved == 0; attempt++ {
		_ = os.Remove(ckpt)
		ctx, cancel := context.WithCancel(context.Background())
		out := &lockedBuffer{on: func(s string) {
			if strings.Contains(s, " done, ") {
				cancel()
			}
		}}
		_, err := run(ctx, out, cfg, noEnv)
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, out.b.String(), "run again with -resume")
		saved, err = (&fileCheckpoint{path: ckpt}).Load(context.Background())
		require.NoError(t, err)
	}
	require.Greater(t, saved, int64(0))
	require.Less(t, saved, int64(1000))

	cfg.resume = true
	var out2 bytes.Buffer
	failed, err := run(context.Background(), &out2, cfg, noEnv)
	require.NoError(t, err)
	assert.Zero(t, failed)
	assert.Contains(t, out2.String(), fmt.Sprintf("resumed: skipped %d rows", saved))
	assert.Contains(t, out2.String(), fmt.Sprintf("synced %d of %d rows", 1000-saved, 1000-saved))
	saved, _ = (&fileCheckpoint{path: ckpt}).Load(context.Background())
	assert.Equal(t, int64(1000), saved)

	require.NoError(t, os.WriteFile(ckpt, []byte("many\n"), 0o600))
	_, err = run(context.Background(), &out2, cfg, noEnv)
	assert.ErrorContains(t, err, `"many" is not a row count`)
}
