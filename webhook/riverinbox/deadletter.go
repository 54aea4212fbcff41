package riverinbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ErrNotDeadLetter is returned by Retry and Discard for an id that is not
// a dead-lettered delivery of this inbox (unknown, another kind of job,
// or a delivery still pending, running or completed).
var ErrNotDeadLetter = errors.New("riverinbox: not a dead letter")

// DeadLetter is a delivery that will not run again by itself: its
// callback failed WithMaxAttempts times (discarded), or its stored body
// does not parse (cancelled at once).
type DeadLetter struct {
	// JobID is the River job's id: pass it to Retry or Discard.
	JobID int64
	// Provider, Receiver, Tenant, ID and Type name the delivery (Tenant, ID
	// and Type escaped if they held a NUL or invalid UTF-8).
	Provider, Receiver, Tenant, ID, Type string
	// State is "discarded" (attempts exhausted) or "cancelled" (a body
	// that does not parse).
	State string
	// Attempts is how many times the callback ran.
	Attempts int
	// Errors are the attempts' errors, oldest first.
	Errors []string
	// ReceivedAt is when the receiver read the delivery; FailedAt when it
	// was dead-lettered.
	ReceivedAt, FailedAt time.Time
	// Raw is the verified body; Header the stored headers.
	Raw    []byte
	Header http.Header
}

// Filter selects dead letters; zero fields match everything.
type Filter struct {
	// Provider, Receiver, Tenant and Type match exactly ("" matches any).
	Provider, Receiver, Tenant, Type string
	// Since and Until bound when the delivery was dead-lettered
	// (Since <= FailedAt < Until).
	Since, Until time.Time
}

func (f Filter) match(d DeadLetter) bool {
	return (f.Provider == "" || f.Provider == d.Provider) && (f.Receiver == "" || f.Receiver == d.Receiver) &&
		(f.Tenant == "" || f.Tenant == d.Tenant) && (f.Type == "" || f.Type == d.Type) && (f.Since.IsZero() || !d.FailedAt.Before(f.Since)) &&
		(f.Until.IsZero() || d.FailedAt.Before(f.Until))
}

var deadStates = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}

func deadLetter(job *rivertype.JobRow) (DeadLetter, error) {
	var a DeliveryArgs
	if err := json.Unmarshal(job.EncodedArgs, &a); err != nil {
		return DeadLetter{}, fmt.Errorf("riverinbox: job %d: %w", job.ID, err)
	}
	d := DeadLetter{JobID: job.ID, Provider: a.Provider, Receiver: a.Receiver, Tenant: a.Tenant, ID: a.ID, Type: a.Type,
		State: string(job.State), Attempts: job.Attempt, ReceivedAt: a.ReceivedAt, Raw: a.Raw, Header: a.Header}
	if job.FinalizedAt != nil {
		d.FailedAt = *job.FinalizedAt
	}
	for _, e := range job.Errors {
		d.Errors = append(d.Errors, e.Error)
	}
	return d, nil
}

// DeadLetters lists the dead letters matching f, oldest job first, a page
// of 100 at a time from the database. Stop ranging to stop; an error ends
// the sequence.
func (in *Inbox[TTx]) DeadLetters(ctx context.Context, f Filter) iter.Seq2[DeadLetter, error] {
	return func(yield func(DeadLetter, error) bool) {
		params := river.NewJobListParams().Kinds(Kind).Queues(in.cfg.queue).States(deadStates...).First(100)
		for {
			res, err := in.client.JobList(ctx, params)
			if err != nil {
				yield(DeadLetter{}, fmt.Errorf("riverinbox: listing dead letters: %w", err))
				return
			}
			for _, job := range res.Jobs {
				d, err := deadLetter(job)
				if err != nil {
					if !yield(DeadLetter{}, err) {
						return
					}
					continue
				}
				if f.match(d) && !yield(d, nil) {
					return
				}
			}
			if len(res.Jobs) < 100 || res.LastCursor == nil {
				return
			}
			params = params.After(res.LastCursor)
		}
	}
}

func (in *Inbox[TTx]) deadJob(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	job, err := in.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, fmt.Errorf("%w: job %d not found", ErrNotDeadLetter, id)
	}
	if err != nil {
		return nil, fmt.Errorf("riverinbox: job %d: %w", id, err)
	}
	if job.Kind != Kind || (job.State != rivertype.JobStateDiscarded && job.State != rivertype.JobStateCancelled) {
		return nil, fmt.Errorf("%w: job %d is a %s job in state %s", ErrNotDeadLetter, id, job.Kind, job.State)
	}
	if job.Queue != in.cfg.queue {
		return nil, fmt.Errorf("%w: job %d belongs to queue %s, not this inbox's %s", ErrNotDeadLetter, id, job.Queue, in.cfg.queue)
	}
	return job, nil
}

// Retry runs a dead letter again, once the cause is fixed. It is safe in
// every case a vendor's resend creates:
//   - if another job for the same delivery exists (the vendor resent it
//     and that job is pending, running or completed), that job is the
//     delivery: the dead letter is removed and nothing runs twice;
//   - if the delivery was already processed through Tx (by a resend whose
//     job was since cleaned up), the retried job completes without
//     running the callback again.
//
// Otherwise the job is made available now, with its attempts reset (it
// gets WithMaxAttempts tries again, with River's backoff from the start).
func (in *Inbox[TTx]) Retry(ctx context.Context, id int64) error {
	job, err := in.deadJob(ctx, id)
	if err != nil {
		return err
	}
	if twin, err := in.liveTwin(ctx, id); err != nil {
		return err
	} else if twin != 0 {
		if _, err := in.client.JobDelete(ctx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("riverinbox: removing dead letter %d (delivery already taken by job %d): %w", id, twin, err)
		}
		in.logf(ctx, slog.LevelInfo, "riverinbox: dead letter removed: the delivery was resent and is handled by another job", job, slogInt64("by_job", twin))
		return nil
	}
	if err := in.retryDead(ctx, job); err != nil {
		// A resend stored between the check and the retry: the unique
		// index refuses the retry; the resend's job has it.
		if twin, terr := in.liveTwin(ctx, id); terr == nil && twin != 0 {
			_, _ = in.client.JobDelete(ctx, id)
			return nil
		}
		return fmt.Errorf("riverinbox: retrying dead letter %d: %w", id, err)
	}
	return nil
}

// retryDead makes the dead letter available now with its attempts reset
// (River's JobRetry alone adds a single attempt to an exhausted job, so a
// retried delivery whose next attempt failed would be dead again at
// once), in one transaction so no worker takes it in between.
func (in *Inbox[TTx]) retryDead(ctx context.Context, job *rivertype.JobRow) error {
	tx, err := in.b.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = in.b.rollback(context.WithoutCancel(ctx), tx) }()
	if _, err := in.client.JobRetryTx(ctx, tx, job.ID); err != nil {
		return err
	}
	if _, err := in.b.execTx(ctx, tx, in.b.q("UPDATE "+in.table("river_job")+" SET attempt = 0, max_attempts = $1 WHERE id = $2 AND state = 'available'"),
		job.MaxAttempts, job.ID); err != nil {
		return err
	}
	return in.b.commit(ctx, tx)
}

// liveTwin returns another job for the same delivery that is not dead,
// or 0. Both carry the same unique_key (River's, from the unique args).
func (in *Inbox[TTx]) liveTwin(ctx context.Context, id int64) (int64, error) {
	rows, err := in.b.queryPairs(ctx, in.b.q("SELECT CAST(state AS TEXT), id FROM "+in.table("river_job")+
		" WHERE unique_key = (SELECT unique_key FROM "+in.table("river_job")+" WHERE id = $1) AND id <> $2 AND state NOT IN ('discarded', 'cancelled')"), id, id)
	if err != nil {
		return 0, fmt.Errorf("riverinbox: looking for a resend of job %d: %w", id, err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].n, nil
}

// Discard deletes a dead letter for good (the delivery will not be
// processed).
func (in *Inbox[TTx]) Discard(ctx context.Context, id int64) error {
	job, err := in.deadJob(ctx, id)
	if err != nil {
		return err
	}
	if _, err := in.client.JobDelete(ctx, id); err != nil {
		return fmt.Errorf("riverinbox: discarding dead letter %d: %w", id, err)
	}
	in.logf(ctx, slog.LevelInfo, "riverinbox: dead letter discarded", job)
	return nil
}

// Counts is the inbox's state for a dashboard.
type Counts struct {
	// Pending deliveries wait for a worker (available or scheduled).
	Pending int64
	// Running deliveries are in a callback now.
	Running int64
	// Retrying deliveries failed and wait for their next attempt.
	Retrying int64
	// Dead deliveries will not run again by themselves (DeadLetters).
	Dead int64
	// Completed deliveries are kept for deduplication (WithRetention).
	Completed int64
}

// Counts counts the inbox's deliveries by state.
func (in *Inbox[TTx]) Counts(ctx context.Context) (Counts, error) {
	rows, err := in.b.queryPairs(ctx, in.b.q("SELECT CAST(state AS TEXT), count(*) FROM "+in.table("river_job")+
		" WHERE kind = $1 AND queue = $2 GROUP BY state"), Kind, in.cfg.queue)
	if err != nil {
		return Counts{}, fmt.Errorf("riverinbox: counting deliveries: %w", err)
	}
	var c Counts
	for _, r := range rows {
		switch rivertype.JobState(r.s) {
		case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending:
			c.Pending += r.n
		case rivertype.JobStateRunning:
			c.Running += r.n
		case rivertype.JobStateRetryable:
			c.Retrying += r.n
		case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			c.Dead += r.n
		case rivertype.JobStateCompleted:
			c.Completed += r.n
		}
	}
	return c, nil
}
