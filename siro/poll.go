package siro

import (
	"context"
	"errors"
	"iter"
	"time"
)

// PollOptions tune PollRecordings and WaitForRecording; nil means every
// default.
type PollOptions struct {
	// Interval between polls when nothing failed (default 1 minute).
	Interval time.Duration
	// MaxInterval caps the backoff after errors (default 10 minutes).
	MaxInterval time.Duration
	// Show selects optional blocks of each recording (CRM links, summary...).
	Show RecordingShow
	// PageSize per list call (default Siro's 25).
	PageSize int
}

// resolved returns a copy of o (nil: every default) with defaults filled.
func (o *PollOptions) resolved() PollOptions {
	var r PollOptions
	if o != nil {
		r = *o
	}
	r.defaults()
	return r
}

func (o *PollOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = max(10*time.Minute, o.Interval)
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock.After(d):
		return nil
	}
}

// PollRecordings is the guide's polling flow for users who cannot take
// webhooks: it lists recordings with updatedAt:gte = since, yields each new
// or changed one, moves since to the newest updatedAt seen, waits, and
// repeats until ctx ends. Errors are yielded (the loop then backs off up to
// MaxInterval); break to stop. To resume after a restart, pass the
// UpdatedAt of the last recording you processed as since.
func (c *Client) PollRecordings(ctx context.Context, since time.Time, opts *PollOptions) iter.Seq2[Recording, error] {
	o := opts.resolved()
	return func(yield func(Recording, error) bool) {
		cursorTime := since
		seen := map[string]string{} // id -> updatedAt already yielded at the boundary
		wait := o.Interval
		for {
			newest := cursorTime
			nextSeen := map[string]string{}
			p := &ListRecordingsParams{RecordingShow: o.Show, UpdatedAtGTE: At(cursorTime), PageSize: o.PageSize}
			var failed error
			for r, err := range c.AllRecordings(ctx, p) {
				if err != nil {
					failed = err
					break
				}
				if seen[r.ID] == r.UpdatedAt.Raw {
					continue // inclusive bound: already yielded
				}
				if !yield(r, nil) {
					return
				}
				if t := r.UpdatedAt.Time; !t.IsZero() {
					switch {
					case t.After(newest):
						newest = t
						nextSeen = map[string]string{r.ID: r.UpdatedAt.Raw}
					case t.Equal(newest):
						nextSeen[r.ID] = r.UpdatedAt.Raw
					}
				}
			}
			if failed != nil {
				if ctx.Err() != nil {
					return
				}
				if !yield(Recording{}, failed) {
					return
				}
				wait = min(wait*2, o.MaxInterval)
			} else {
				if newest.After(cursorTime) {
					cursorTime, seen = newest, nextSeen
				} else {
					for k, v := range nextSeen {
						seen[k] = v
					}
				}
				wait = o.Interval
			}
			if c.sleep(ctx, wait) != nil {
				return
			}
		}
	}
}

// WaitForRecording polls an engagement (by Siro id) until Siro matched a
// recording to it, with backoff from Interval to MaxInterval, and returns
// the engagement. A 404 or other non-retryable error ends the wait.
func (c *Client) WaitForRecording(ctx context.Context, engagementID string, opts *PollOptions) (*Engagement, error) {
	o := opts.resolved()
	wait := o.Interval
	for {
		e, err := c.GetEngagement(ctx, engagementID)
		if err == nil && e.RecordingID != "" {
			return e, nil
		}
		var apiErr *Error
		if err != nil && (errors.As(err, &apiErr) && !apiErr.Temporary() || ctx.Err() != nil) {
			return nil, err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(wait*2, o.MaxInterval)
	}
}
