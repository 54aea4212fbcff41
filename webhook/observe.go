package webhook

import (
	"context"
	"fmt"
	"log/slog"
)

// begin starts stage st of ev (nil before verification) for the
// receiver's Observer; without one it returns ctx and a nil end, so the
// engine does no observing work.
func (r *Receiver) begin(ctx context.Context, st Stage, ev *Event, op string) (context.Context, func(Result)) {
	if r.obs == nil {
		return ctx, nil
	}
	o := Observation{Provider: r.spec.Provider, Receiver: r.name, Op: op}
	if ev != nil {
		o.Tenant, o.DeliveryID, o.EventType = ev.Tenant, ev.ID, ev.Type
	}
	return startStage(ctx, r.obs, r.s.logger, st, o)
}

// startStage calls o.Start and returns the stage's context and an end
// function that is safe to call once (never nil); a panic in the Observer
// is recovered and logged, never changing the delivery's answer. It runs
// on the delivery's goroutine (and the callback's, which starts with a
// small stack), so it keeps its frame small: no closure of its own.
func startStage(ctx context.Context, o Observer, log *slog.Logger, st Stage, ob Observation) (sctx context.Context, end func(Result)) {
	defer func() {
		if p := recover(); p != nil {
			observerPanicked(ctx, log, "Start", p)
			sctx, end = ctx, noEnd
		}
	}()
	sctx, end = o.Start(ctx, st, ob)
	if sctx == nil {
		sctx = ctx
	}
	if end == nil {
		return sctx, noEnd
	}
	return sctx, guardEnd(ctx, log, st, end)
}

// noEnd is the end of a stage the Observer returned no end function for.
func noEnd(Result) {}

// guardEnd returns end recovering (and logging) a panic in it.
func guardEnd(ctx context.Context, log *slog.Logger, st Stage, end func(Result)) func(Result) {
	return func(res Result) {
		defer func() {
			if p := recover(); p != nil {
				observerPanicked(ctx, log, "end of "+string(st), p)
			}
		}()
		end(res)
	}
}

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
