// Command bulk-sync reads a CSV or JSON export of appointments and syncs
// it to Siro with the bulk sync: batches, bounded concurrency and a
// client-side rate limit. It shows a live progress line on a terminal and
// plain lines otherwise, then a summary of synced and failed records with
// the reasons.
//
//	go run ./examples/bulk-sync -file examples/bulk-sync/testdata/appointments.csv
//
// Without SIRO_ORG_TOKEN it syncs to the embedded fake Siro.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
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

func main() {
	file := flag.String("file", "", "CSV or JSON export of appointments")
	batch := flag.Int("batch", siro.DefaultBulkBatchSize, "records per batch call")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "usage: bulk-sync -file appointments.csv|appointments.json")
		os.Exit(2)
	}
	interactive := false
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		interactive = true
	}
	failed, err := run(context.Background(), os.Stdout, *file, *batch, interactive, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulk-sync:", err)
		os.Exit(1)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, file string, batch int, interactive bool, getenv func(string) string) (int, error) {
	rows, err := load(file)
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
	records := make([]siro.SyncEngagement, len(rows))
	var convErr = map[int]error{}
	for i, r := range rows {
		records[i], convErr[i] = toEngagement(r)
		if convErr[i] != nil {
			records[i] = siro.SyncEngagement{} // refused by validation below, reason kept
		}
	}
	start := time.Now()
	res, err := c.BulkSyncEngagements(ctx, records, siro.BulkOptions{BatchSize: batch, OnProgress: func(p siro.BulkProgress) {
		line := fmt.Sprintf("%d/%d done, %d synced, %d failed", p.Done, p.Total, p.Synced, p.Failed)
		if interactive {
			fmt.Fprintf(out, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(out, line)
		}
	}})
	if interactive {
		fmt.Fprintln(out)
	}
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "synced %d of %d records in %s (%d requests), %d failed\n", res.Synced, len(records), time.Since(start).Round(time.Millisecond), res.Requests, res.Failed)
	for _, f := range res.Failures() {
		reason := f.Err
		if convErr[f.Index] != nil {
			reason = convErr[f.Index]
		}
		id := rows[f.Index].ExternalID
		if id == "" {
			id = "(no external_id)"
		}
		fmt.Fprintf(out, "  row %d %s: %v\n", f.Index+1, id, reason)
	}
	return res.Failed, nil
}

func load(file string) ([]Appointment, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(file)) {
	case ".json":
		var rows []Appointment
		if err := json.NewDecoder(f).Decode(&rows); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return rows, nil
	case ".csv":
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(recs) == 0 {
			return nil, errors.New("empty CSV")
		}
		idx := map[string]int{}
		for i, h := range recs[0] {
			idx[strings.TrimSpace(h)] = i
		}
		get := func(row []string, k string) string {
			if i, ok := idx[k]; ok && i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		var rows []Appointment
		for _, row := range recs[1:] {
			rows = append(rows, Appointment{ExternalID: get(row, "external_id"), Subject: get(row, "subject"), Start: get(row, "start"),
				End: get(row, "end"), ActivityType: get(row, "activity_type"), AccountID: get(row, "account_id"), AccountName: get(row, "account_name"),
				OpportunityID: get(row, "opportunity_id"), RepID: get(row, "rep_id"), RepEmail: get(row, "rep_email")})
		}
		return rows, nil
	}
	return nil, fmt.Errorf("%s: want a .csv or .json file", file)
}

func toEngagement(a Appointment) (siro.SyncEngagement, error) {
	e := siro.SyncEngagement{ExternalID: a.ExternalID, Subject: a.Subject}
	for _, t := range []struct {
		s   string
		dst **siro.Time
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
