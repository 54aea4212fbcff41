package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// begin starts stage st of ev (nil before verification) for the
// receiver's Observer; without one it returns ctx and the zero stage, so
// the engine does no observing work.
func (r *Receiver) begin(ctx context.Context, st Stage, ev *Event, op string) (context.Context, stage) {
	if r.obs == nil {
		return ctx, stage{}
	}
	o := Observation{Provider: r.spec.Provider, Receiver: r.name, Op: op}
	if ev != nil {
		o.Tenant, o.DeliveryID, o.EventType = ev.Tenant, ev.ID, ev.Type
	}
	return startStage(ctx, r.obs, r.s.logger, st, o)
}

// stage is one observed stage: the Observer's end function and what
// finish needs to call it safely. It is a value (no closure per stage);
// the zero stage, without an Observer, does nothing.
type stage struct {
	end func(Result)
	ctx context.Context // the stage's parent context, for the panic log
	log *slog.Logger
	st  Stage
	t0  time.Time
}

// on reports whether the stage is observed.
func (s *stage) on() bool { return s.end != nil }

// finish ends the stage with res (Duration measured from the stage's
// start when res has none); a panic in the Observer is recovered and
// logged, never changing the delivery's answer. Call it once.
func (s *stage) finish(res Result) {
	if s.end == nil {
		return
	}
	if res.Duration == 0 {
		res.Duration = time.Since(s.t0)
	}
	defer func() {
		if p := recover(); p != nil {
			observerPanicked(s.ctx, s.log, "end of "+string(s.st), p)
		}
	}()
	s.end(res)
}

// finishAs ends the stage with out's outcome and reason (ok when out has
// no error).
func (s *stage) finishAs(out result, ok Outcome, id, eventType string) {
	if !s.on() {
		return
	}
	oc, _, reason := classify(out)
	if out.err == nil {
		oc = ok
	}
	s.finish(Result{Outcome: oc, Reason: reason, Err: out.err, DeliveryID: id, EventType: eventType})
}

// startStage calls o.Start and returns the stage's context and the stage
// (its end is never nil); a panic in the Observer is recovered and
// logged. It runs on the delivery's goroutine, so it keeps its frame
// small: no closure of its own.
func startStage(ctx context.Context, o Observer, log *slog.Logger, st Stage, ob Observation) (sctx context.Context, s stage) {
	s = stage{end: noEnd, ctx: ctx, log: log, st: st}
	defer func() {
		if p := recover(); p != nil {
			observerPanicked(ctx, log, "Start", p)
			sctx, s.end, s.t0 = ctx, noEnd, time.Now()
		}
	}()
	sctx, s.end = o.Start(ctx, st, ob)
	if sctx == nil {
		sctx = ctx
	}
	if s.end == nil {
		s.end = noEnd
	}
	s.t0 = time.Now()
	return sctx, s
}

// noEnd is the end of a stage the Observer returned no end function for.
func noEnd(Result) {}

func observerPanicked(ctx context.Context, log *slog.Logger, where string, p any) {
	if log != nil {
		log.LogAttrs(ctx, slog.LevelError, "webhook: observer panicked", slog.String("in", where), slog.String("error", fmt.Sprint(p)))
	}
}

// inject returns the Observer's trace carrier for ctx (panic-safe).
func (r *Receiver) inject(ctx context.Context) (m map[string]string) {
	defer func() {
		if p := recover(); p != nil {
			observerPanicked(ctx, r.s.logger, "Inject", p)
			m = nil
		}
	}()
	return r.obs.Inject(ctx)
}

// extract continues the trace in carrier (panic-safe).
func (r *Receiver) extract(ctx context.Context, carrier map[string]string) context.Context {
	return extractTrace(ctx, r.obs, r.s.logger, carrier)
}

func extractTrace(ctx context.Context, o Observer, log *slog.Logger, carrier map[string]string) (out context.Context) {
	defer func() {
		if p := recover(); p != nil {
			observerPanicked(ctx, log, "Extract", p)
			out = ctx
		}
	}()
	if out = o.Extract(ctx, carrier); out == nil {
		out = ctx
	}
	return context.WithValue(out, traceContinued{}, true)
}

type traceContinued struct{}

// ContinueTrace marks ctx as already continuing a stored delivery's trace
// (an inbox that called Observer.Extract with Event.Trace itself passes
// it to Receiver.Process, which then does not extract again).
func ContinueTrace(ctx context.Context) context.Context {
	return context.WithValue(ctx, traceContinued{}, true)
}
