package webhook

import (
	"context"
	"sync/atomic"
)

// handoff passes a callback's result from its goroutine to the request.
// state says who holds the result, and so commits or releases the
// reservation: the request while it waits (running, then returned once
// the callback put its result on done), the callback's goroutine once the
// request answered 504 at the deadline (abandoned). A Receiver pools them:
// the request returns one to the pool after taking its result.
type handoff struct {
	state atomic.Int32
	done  chan result // buffered: the callback's goroutine never blocks
	lease lazyLease
	obs   stage // the callback stage, begun by the request
	ctx   context.Context
	d     *delivery
}

// handoff states.
const (
	running int32 = iota
	returned
	abandoned
)

// run is the callback's goroutine: it runs d's callback under ctx (set
// by the request, with d, before the goroutine starts, so that starting
// it allocates no closure for arguments).
func (h *handoff) run() {
	ctx, d := h.ctx, h.d
	r := d.r
	defer r.inflight.Done()
	out := result{err: errGoexit}
	defer func() { // also on runtime.Goexit
		if h.state.CompareAndSwap(running, returned) {
			h.done <- out // h belongs to the request from here on
			return
		}
		r.finish(d.ctx, d.ev, h.lease.stop(), out.err)
	}()
	out = r.callback(ctx, &h.obs, d.ev, d.parsed)
}
