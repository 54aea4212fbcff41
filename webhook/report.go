package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"

	"github.com/callcrm/callcrm-go/internal/errtext"
)

// classify decides a delivery's outcome, HTTP status and reason from how
// the pipeline ended it: the one place that does.
func classify(out result) (Outcome, int, string) {
	status := StatusCode(out.err)
	if out.status >= 200 && out.err != nil {
		status = out.status // a wrapped handler answered itself
	}
	switch {
	case out.err == nil && out.enqueued:
		return OutcomeEnqueued, status, ""
	case out.err == nil:
		return OutcomeProcessed, status, ""
	case out.panicked:
		return OutcomePanicked, status, "panic"
	case errors.As(out.err, new(*CallbackError)):
		return OutcomeFailed, status, "error" // whatever the callback's own error wraps
	case errors.Is(out.err, ErrDuplicate):
		return OutcomeDuplicate, status, ""
	case errors.Is(out.err, ErrInProgress):
		return OutcomeInProgress, status, ""
	case errors.Is(out.err, ErrCallbackTimeout):
		return OutcomeTimedOut, status, "deadline"
	case out.panicked:
		return OutcomePanicked, status, "panic"
	case out.status != 0: // a wrapped handler's own failure answer
		return OutcomeFailed, status, "error"
	case status == http.StatusServiceUnavailable:
		return OutcomeUnavailable, status, unavailableReason(out.err)
	case status >= 500:
		return OutcomeFailed, status, "error"
	}
	return OutcomeRefused, status, refusalReason(out.err)
}

// reasons maps errors to a Result.Reason: the first entry whose errors
// one matches (errors.Is) names it.
type reasons []struct {
	name string
	errs []error
}

// of returns the reason err matches, else fallback.
func (rs reasons) of(err error, fallback string) string {
	for _, r := range rs {
		for _, e := range r.errs {
			if errors.Is(err, e) {
				return r.name
			}
		}
	}
	return fallback
}

// unavailableReasons name a 503; "store" (the deduper or inbox store)
// when none matches.
var unavailableReasons = reasons{
	{"secret_source", []error{ErrSecretSource}},
	{"inbox", []error{ErrInboxFull}},
	{"shutting_down", []error{ErrShuttingDown}},
}

func unavailableReason(err error) string { return unavailableReasons.of(err, "store") }

// refusalReasons name a refused delivery; "malformed" when none matches.
var refusalReasons = reasons{
	{"timestamp", []error{ErrTimestampTooOld, ErrTimestampTooNew}},
	{"signature", []error{ErrMissingHeader, ErrNoMatchingSignature}},
	{"too_large", []error{ErrPayloadTooLarge}},
	{"method", []error{ErrMethodNotAllowed}},
	{"encoding", []error{ErrUnsupportedEncoding}},
	{"read_timeout", []error{ErrReadTimeout}},
	{"unknown_tenant", []error{ErrUnknownTenant}},
}

func refusalReason(err error) string { return refusalReasons.of(err, "malformed") }

// settle is the one place a delivery is reported: its outcome counted,
// a refusal or failure logged and handed to the error hook, the Observer's
// delivery stage ended, and the answer written (unless a wrapped handler
// wrote its own).
func (d *delivery) settle(out result) {
	r := d.r
	oc, status, reason := classify(out)
	r.n.by[slices.Index(outcomes[:], oc)].Add(1)
	if out.err != nil && !out.aborted {
		r.report(d.ctx, d.req, d.ev, status, out.err)
	}
	if d.obs.on() {
		res := Result{Outcome: oc, Status: status, Reason: reason, Err: out.err}
		if d.ev != nil {
			res.DeliveryID, res.EventType = d.ev.ID, d.ev.Type
		}
		d.obs.finish(res)
	}
	switch {
	case out.status != 0 || out.aborted || out.exited:
		// the wrapped handler answered (or drops the connection)
	case status == http.StatusOK:
		d.w.WriteHeader(status)
	default:
		if status == http.StatusServiceUnavailable || status == http.StatusConflict {
			d.w.Header().Set("Retry-After", "5")
		}
		http.Error(d.w, http.StatusText(status), status)
	}
}

// report logs a refused or failed delivery once, with the same keys for
// every vendor, and hands it to the error hook.
func (r *Receiver) report(ctx context.Context, req *http.Request, ev *Event, status int, err error) {
	if r.s.onError != nil && status >= 400 { // a duplicate (2xx) is neither refused nor failed
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.n.panics.Add(1)
					if r.s.logger != nil {
						r.s.logger.LogAttrs(ctx, slog.LevelError, "webhook: error hook panicked",
							slog.String("provider", r.spec.Provider), slog.String("error", fmt.Sprint(p)))
					}
				}
			}()
			r.s.onError(req, err)
		}()
	}
	if r.s.logger == nil {
		return
	}
	level, msg := slog.LevelWarn, "webhook: delivery refused"
	switch {
	case status == http.StatusOK:
		level, msg = slog.LevelDebug, "webhook: duplicate delivery acknowledged"
	case status >= 500:
		level, msg = slog.LevelError, "webhook: delivery failed"
	}
	id, typ, tenant := "", "", ""
	if ev != nil {
		id, typ, tenant = ev.ID, ev.Type, ev.Tenant
		if id == "" {
			id = ev.Delivery.ID
		}
	}
	if id == "" && r.spec.IDHeader != "" && req != nil {
		// Unverified, so bounded: it only correlates with the vendor's log.
		id = req.Header.Get(r.spec.IDHeader)
		if len(id) > 128 {
			id = id[:128]
		}
	}
	attrs := []slog.Attr{slog.String("provider", r.spec.Provider), slog.String("delivery_id", id),
		slog.String("event", typ), slog.Int("status", status), slog.String("error", errtext.Of(err))}
	if tenant != "" {
		attrs = append(attrs, slog.String("tenant", tenant))
	}
	r.s.logger.LogAttrs(ctx, level, msg, attrs...)
}

// logPanic counts a recovered panic and logs it with its stack.
func (r *Receiver) logPanic(ctx context.Context, msg string, ev *Event, p any) {
	r.n.panics.Add(1)
	if r.s.logger != nil {
		r.s.logger.LogAttrs(ctx, slog.LevelError, msg,
			slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type),
			slog.Int("status", 500), slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
	}
}
