package riverinbox

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/callcrm/callcrm-go/webhook"
)

// startJob continues the stored trace and starts the job's stage; an
// Observer that panics is logged and ignored.
func startJob(ctx context.Context, obs webhook.Observer, a DeliveryArgs, attempt int, log *slog.Logger) (out context.Context, end func(webhook.Result)) {
	out, end = ctx, func(webhook.Result) {}
	defer func() {
		if p := recover(); p != nil && log != nil {
			log.LogAttrs(ctx, slog.LevelError, "riverinbox: observer panicked", slog.String("error", fmt.Sprint(p)))
		}
	}()
	if len(a.Trace) > 0 {
		ctx = obs.Extract(ctx, a.Trace)
		out = ctx
	}
	c, e := obs.Start(ctx, webhook.StageJob, webhook.Observation{Provider: a.Provider, Receiver: a.Receiver, Tenant: a.Tenant,
		DeliveryID: a.ID, EventType: a.Type, Attempt: attempt})
	if c != nil {
		out = c
	}
	if e != nil {
		end = e
	}
	return out, end
}

func safeEnd(end func(webhook.Result), r webhook.Result, log *slog.Logger) {
	defer func() {
		if p := recover(); p != nil && log != nil {
			log.LogAttrs(context.Background(), slog.LevelError, "riverinbox: observer panicked", slog.String("error", fmt.Sprint(p)))
		}
	}()
	end(r)
}

func slogInt64(k string, v int64) slog.Attr { return slog.Int64(k, v) }
