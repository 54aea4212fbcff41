package core

import (
	"context"
	"time"
)

// Limiter paces a client's requests so that a rate budget holds (Siro's is
// per token, shared by every process using it). Wait is called before every
// attempt, retries and the replay after a 401 included, and blocks until
// the attempt may be sent or ctx is done.
type Limiter interface {
	Wait(ctx context.Context) error
}

// waitLimit runs the configured limiter before an attempt.
func (c *Client) waitLimit(ctx context.Context, req *Request, attempt int) error {
	if c.limiter == nil {
		return nil
	}
	var start time.Time
	if c.obs != nil {
		start = time.Now()
	}
	err := c.limiter.Wait(ctx)
	if c.obs != nil {
		observeLimiterWait(ctx, c.obs, time.Since(start))
	}
	if err != nil {
		return &RequestError{Provider: c.provider, Operation: req.Operation, Method: req.Method, Route: req.Route, Attempts: attempt - 1, Err: err}
	}
	return nil
}
