// Command bulk-sync streams a CSV or JSON export of appointments to Siro
// with the streaming bulk sync: batches, bounded concurrency, every request
// paced by the client's rate limiter, and records Siro refuses isolated by
// bisection. Memory stays flat whatever the file's size. On a terminal it
// draws a progress bar with the rate and an ETA; otherwise it prints a
// plain line about once a second. Failed rows go to a report file (CSV:
// row, external_id, reason), and with -checkpoint a crashed or interrupted
// run continues where it stopped (-resume); rows replayed after a crash
// are harmless, since a sync is an upsert by externalId.
//
//	go run ./examples/bulk-sync -file examples/bulk-sync/testdata/appointments.csv
//	go run ./examples/bulk-sync -file export.jsonl -failures failed.csv -checkpoint export.ckpt -resume
//
// Formats: .csv (a header row naming the columns), .json (an array of
// objects) and .jsonl / .ndjson (one object per line). Without
// SIRO_ORG_TOKEN it syncs to the embedded fake Siro.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// Appointment is one row of the export.
type Appointment struct {
	ExternalID    string `json:"external_id"`
	Subject       string `json:"subject"`
	Start         string `json:"start"`
	End           string `json:"end"`
	ActivityType  string `json:"activity_type"`
	AccountID     string `json:"account_id"`
	AccountName   string `json:"account_name"`
	OpportunityID string `json:"opportunity_id"`
	RepID         string `json:"rep_id"`
	RepEmail      string `json:"rep_email"`
}

// config is what the flags say.
type config struct {
	file        string
	batch       int
	failures    string // failure report path ("" = none)
	checkpoint  string // checkpoint file ("" = none)
	resume      bool   // continue from the checkpoint
	interactive bool   // draw a progress bar
}

func main() {
	var cfg config
	flag.StringVar(&cfg.file, "file", "", "CSV, JSON or JSON-lines export of appointments")
	flag.IntVar(&cfg.batch, "batch", siro.DefaultBulkBatchSize, "records per batch call")
	flag.StringVar(&cfg.failures, "failures", "", "write failed rows to this CSV file (row, external_id, reason)")
	flag.StringVar(&cfg.checkpoint, "checkpoint", "", "save progress to this file")
	flag.BoolVar(&cfg.resume, "resume", false, "continue from the -checkpoint file")
	flag.Parse()
	if cfg.file == "" || (cfg.resume && cfg.checkpoint == "") {
		fmt.Fprintln(os.Stderr, "usage: bulk-sync -file appointments.csv|.json|.jsonl [-failures failed.csv] [-checkpoint file [-resume]]")
		os.Exit(2)
	}
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		cfg.interactive = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed, err := run(ctx, os.Stdout, cfg, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulk-sync:", err)
		os.Exit(1)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config, getenv func(string) string) (int, error) {
	f, err := os.Open(cfg.file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	cr := &countingReader{r: f}
	rows, err := rowsOf(cfg.file, cr)
	if err != nil {
		return 0, err
	}
	var c *siro.Client
	if tok := getenv("SIRO_ORG_TOKEN"); tok != "" {
		c, err = siro.NewClient(siro.WithOrgToken(tok))
	} else {
		fake := sirotest.New()
		defer fake.Close()
		fmt.Fprintln(out, "no SIRO_ORG_TOKEN: syncing to the embedded fake Siro")
		c, err = fake.Client()
	}
	if err != nil {
		return 0, err
	}

	o := siro.BulkOptions{BatchSize: cfg.batch}
	if cfg.checkpoint != "" {
		cp := &fileCheckpoint{path: cfg.checkpoint}
		if !cfg.resume {
			if err := cp.Save(ctx, 0); err != nil {
				return 0, err
			}
		}
		o.Checkpoint = cp
	}
	report, err := openReport(cfg.failures, cfg.resume)
	if err != nil {
		return 0, err
	}
	defer report.close()

	start := time.Now()
	bar := &progress{out: out, interactive: cfg.interactive, size: size, read: &cr.n, start: start}
	o.OnProgress = bar.update
	shown := 0
	in := func(yield func(siro.SyncEngagement, error) bool) {
		for r, err := range rows {
			if err != nil {
				if !yield(siro.SyncEngagement{ExternalID: r.ExternalID}, err) {
					return
				}
				continue
			}
			e, err := toEngagement(r)
			if !yield(e, err) {
				return
			}
		}
	}
	var failures []string
	sum, err := c.StreamSyncEngagements(ctx, in, o, func(it siro.BulkItem[siro.Engagement]) {
		if it.Err == nil {
			return
		}
		id := it.ExternalID
		if id == "" {
			id = "(no external_id)"
		}
		report.write(it.Index+1, it.ExternalID, it.Err)
		if shown < 20 {
			failures = append(failures, fmt.Sprintf("  row %d %s: %v", it.Index+1, id, it.Err))
		}
		shown++
	})
	bar.finish()
	if err != nil && !errors.Is(err, context.Canceled) {
		return sum.Failed, err
	}
	if sum.Skipped > 0 {
		fmt.Fprintf(out, "resumed: skipped %d rows settled by an earlier run\n", sum.Skipped)
	}
	fmt.Fprintf(out, "synced %d of %d rows in %s (%d requests), %d failed\n", sum.Synced, sum.Read-sum.Skipped,
		time.Since(start).Round(time.Millisecond), sum.Requests, sum.Failed)
	for _, l := range failures {
		fmt.Fprintln(out, l)
	}
	if shown > len(failures) {
		fmt.Fprintf(out, "  ... and %d more\n", shown-len(failures))
	}
	if cfg.failures != "" && sum.Failed > 0 {
		fmt.Fprintf(out, "failed rows written to %s\n", cfg.failures)
	}
	if err != nil {
		fmt.Fprintf(out, "interrupted: %d rows settled; run again with -resume to continue\n", sum.Settled)
		return sum.Failed, err
	}
	return sum.Failed, report.err
}

// countingReader counts the bytes read, for the progress fraction.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// rowsOf streams the file's rows; a row that cannot be read is yielded
// with its error (and as much of the row as was understood).
func rowsOf(file string, r io.Reader) (iter.Seq2[Appointment, error], error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return csvRows(file, r)
	case ".json":
		return jsonArrayRows(file, r)
	case ".jsonl", ".ndjson":
		return jsonLineRows(r), nil
	}
	return nil, fmt.Errorf("%s: want a .csv, .json, .jsonl or .ndjson file", file)
}

func csvRows(file string, r io.Reader) (iter.Seq2[Appointment, error], error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty CSV", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	idx := map[string]int{}
	for i, h := range head {
		idx[strings.TrimSpace(h)] = i
	}
	return func(yield func(Appointment, error) bool) {
		for {
			row, err := cr.Read()
			if err == io.EOF {
				return
			}
			get := func(k string) string {
				if i, ok := idx[k]; ok && i < len(row) {
					return strings.TrimSpace(row[i])
				}
				return ""
			}
			a := Appointment{ExternalID: get("external_id"), Subject: get("subject"), Start: get("start"),
				End: get("end"), ActivityType: get("activity_type"), AccountID: get("account_id"), AccountName: get("account_name"),
				OpportunityID: get("opportunity_id"), RepID: get("rep_id"), RepEmail: get("rep_email")}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					yield(a, err) // an I/O error ends the input
					return
				}
				err = fmt.Errorf("unreadable CSV row: %w", err)
			}
			if !yield(a, err) {
				return
			}
		}
	}, nil
}

func jsonArrayRows(file string, r io.Reader) (iter.Seq2[Appointment, error], error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, fmt.Errorf("%s: want a JSON array of objects", file)
	}
	return func(yield func(Appointment, error) bool) {
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				yield(Appointment{}, fmt.Errorf("unreadable JSON: %w", err))
				return
			}
			if !yield(decodeRow(raw)) {
				return
			}
		}
	}, nil
}

func jsonLineRows(r io.Reader) iter.Seq2[Appointment, error] {
	return func(yield func(Appointment, error) bool) {
		dec := json.NewDecoder(r)
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Appointment{}, fmt.Errorf("unreadable JSON line: %w", err))
				return
			}
			if !yield(decodeRow(raw)) {
				return
			}
		}
	}
}

// decodeRow reads one JSON object; a bad one fails only its row.
func decodeRow(raw json.RawMessage) (Appointment, error) {
	var a Appointment
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("unreadable JSON object: %w", err)
	}
	return a, nil
}

func toEngagement(a Appointment) (siro.SyncEngagement, error) {
	e := siro.SyncEngagement{ExternalID: a.ExternalID, Subject: a.Subject}
	for _, t := range []struct {
		s   string
		dst **webhook.Time
	}{{a.Start, &e.StartTime}, {a.End, &e.EndTime}} {
		if t.s == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339, t.s)
		if err != nil {
			return e, fmt.Errorf("time %q is not RFC 3339", t.s)
		}
		*t.dst = siro.At(tm)
	}
	if a.ActivityType != "" {
		e.EngagementType = &siro.EngagementType{Name: strings.ToLower(a.ActivityType), ActivityType: siro.ActivityType(strings.ToUpper(a.ActivityType))}
	}
	if a.AccountID != "" {
		e.Account = &siro.SyncAccount{ExternalID: a.AccountID, Name: a.AccountName}
	}
	if a.OpportunityID != "" {
		e.Opportunity = &siro.SyncEngagementOpportunity{ExternalID: a.OpportunityID}
	}
	if a.RepID != "" {
		e.EngagementUsers = []siro.SyncUser{{ExternalID: a.RepID, Email: a.RepEmail}}
	}
	return e, nil
}

// fileCheckpoint is a siro.Checkpoint in a small text file, replaced
// atomically (write, then rename) on each save.
type fileCheckpoint struct{ path string }

func (f *fileCheckpoint) Load(context.Context) (int64, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("checkpoint %s: %q is not a row count", f.path, strings.TrimSpace(string(b)))
	}
	return n, nil
}

func (f *fileCheckpoint) Save(_ context.Context, next int64) error {
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(next, 10)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.path)
}

// failureReport writes failed rows as CSV; appends when resuming.
type failureReport struct {
	f   *os.File
	w   *csv.Writer
	err error
}

func openReport(path string, resume bool) (*failureReport, error) {
	if path == "" {
		return &failureReport{}, nil
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	r := &failureReport{f: f, w: csv.NewWriter(f)}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		r.err = r.w.Write([]string{"row", "external_id", "reason"})
	}
	return r, nil
}

func (r *failureReport) write(row int, id string, reason error) {
	if r.w == nil || r.err != nil {
		return
	}
	r.err = r.w.Write([]string{strconv.Itoa(row), id, reason.Error()})
}

func (r *failureReport) close() {
	if r.w == nil {
		return
	}
	r.w.Flush()
	if err := r.w.Error(); err != nil && r.err == nil {
		r.err = err
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = err
	}
}

// progress draws a bar with rate and ETA on a terminal (the fraction is
// the share of the file read), or prints a plain line about once a second.
type progress struct {
	out         io.Writer
	interactive bool
	size        int64
	read        *atomic.Int64
	start, last time.Time
	p, shown    siro.BulkProgress
	drawn       bool
}

func (b *progress) update(p siro.BulkProgress) {
	b.p = p
	now := time.Now()
	if b.drawn && now.Sub(b.last) < time.Second && !b.interactive {
		return
	}
	if b.interactive && b.drawn && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	b.draw(now)
}

func (b *progress) draw(now time.Time) {
	b.drawn = true
	p := b.p
	b.shown = p
	elapsed := now.Sub(b.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.Done) / elapsed.Seconds()
	}
	if !b.interactive {
		fmt.Fprintf(b.out, "%d done, %d synced, %d failed, %.0f rows/s\n", p.Done, p.Synced, p.Failed, rate)
		return
	}
	frac := 0.0
	if b.size > 0 {
		frac = min(float64(b.read.Load())/float64(b.size), 1)
	}
	const width = 30
	filled := int(frac * width)
	eta := "?"
	if frac > 0 && frac < 1 {
		eta = (time.Duration(float64(elapsed)*(1-frac)/frac) / time.Second * time.Second).String()
	} else if frac >= 1 {
		eta = "0s"
	}
	fmt.Fprintf(b.out, "\r\033[K[%s%s] %3.0f%% %d done, %d synced, %d failed, %.0f rows/s, ETA %s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, p.Done, p.Synced, p.Failed, rate, eta)
}

func (b *progress) finish() {
	if b.p.Done > 0 && (b.interactive || b.p != b.shown) {
		b.draw(time.Now())
	}
	if b.interactive && b.drawn {
		fmt.Fprintln(b.out)
	}
}
