package otelcallcrm

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook"
)

// deliveryKey carries the *delivery of a StageDelivery or StageJob span
// to its child stages.
type deliveryKey struct{}

// delivery is what the adapter learns about one delivery (or job) across
// its stages.
type delivery struct {
	provider, receiver, tenant string

	mu           sync.Mutex
	id, typ      string
	verifyReason string
}

func (d *delivery) learn(id, typ string) {
	if id == "" && typ == "" {
		return
	}
	d.mu.Lock()
	if id != "" {
		d.id = id
	}
	if typ != "" {
		d.typ = typ
	}
	d.mu.Unlock()
}

func deliveryFrom(ctx context.Context) *delivery {
	d, _ := ctx.Value(deliveryKey{}).(*delivery)
	return d
}

// Start implements webhook.Observer: StageDelivery starts a server span
// ("webhook receive sivo"), StageJob a consumer span ("webhook job sivo")
// continuing the context Extract returned, and the other stages child
// spans of the one in ctx. The returned function ends the span and
// records the stage's metrics.
func (o *Observer) Start(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	start := time.Now()
	switch stage {
	case webhook.StageDelivery, webhook.StageJob:
		return o.startDelivery(ctx, stage, ob, start)
	}
	d := deliveryFrom(ctx)
	if d != nil {
		if ob.Provider == "" {
			ob.Provider = d.provider
		}
		if ob.Receiver == "" {
			ob.Receiver = d.receiver
		}
		if ob.Tenant == "" {
			ob.Tenant = d.tenant
		}
	}
	kind := trace.SpanKindInternal
	name := "webhook " + string(stage)
	a := make(attrs, 0, 4)
	switch stage {
	case webhook.StageStore:
		a = a.str(AttrStoreOp, ob.Op)
		if ob.Op != "" {
			name += " " + ob.Op
		}
	case webhook.StageEnqueue:
		kind = trace.SpanKindProducer
	case webhook.StageCallback:
		a = a.str(AttrEventType, ob.EventType)
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(a...))
	return ctx, func(r webhook.Result) {
		end := time.Now()
		dur := r.Duration
		if dur <= 0 {
			dur = end.Sub(start)
		}
		if d != nil {
			d.learn(r.DeliveryID, r.EventType)
		}
		if span.IsRecording() {
			span.SetAttributes(AttrOutcome.String(string(r.Outcome)))
			if r.Reason != "" {
				span.SetAttributes(AttrReason.String(r.Reason))
			}
			if r.EventType != "" && stage == webhook.StageCallback && ob.EventType == "" {
				span.SetAttributes(AttrEventType.String(r.EventType))
			}
			if failed(r.Outcome) {
				recordError(span, r.Err, string(r.Outcome))
			}
		}
		span.End(trace.WithTimestamp(end))

		switch stage {
		case webhook.StageVerify:
			if d != nil && r.Outcome == webhook.OutcomeRefused && r.Reason != "" {
				d.mu.Lock()
				d.verifyReason = r.Reason
				d.mu.Unlock()
			}
		case webhook.StageCallback:
			o.inst.callbackDuration.Record(ctx, dur.Seconds(), metric.WithAttributes(
				o.base(ob.Provider, ob.Receiver, ob.Tenant, AttrOutcome.String(string(r.Outcome)))...))
		case webhook.StageStore:
			o.inst.storeDuration.Record(ctx, dur.Seconds(), metric.WithAttributes(
				o.base(ob.Provider, ob.Receiver, ob.Tenant, AttrStoreOp.String(ob.Op), AttrOutcome.String(string(r.Outcome)))...))
		}
	}
}

// failed reports whether a stage ending with out did not do its work.
func failed(out webhook.Outcome) bool {
	switch out {
	case webhook.OutcomeRefused, webhook.OutcomeFailed, webhook.OutcomePanicked,
		webhook.OutcomeTimedOut, webhook.OutcomeUnavailable, webhook.OutcomeRetried,
		webhook.OutcomeDeadLettered:
		return true
	}
	return false
}

// base is the metric attributes every webhook metric has: provider,
// receiver and (WithTenantAttribute) the tenant's label, then extra.
func (o *Observer) base(provider, receiver, tenant string, extra ...attribute.KeyValue) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, 3+len(extra))
	a = append(a, AttrProvider.String(provider), AttrReceiver.String(receiver))
	if o.tenant != nil && tenant != "" {
		if l := o.tenant(tenant); l != "" {
			a = append(a, AttrTenant.String(l))
		}
	}
	return append(a, extra...)
}

func (o *Observer) startDelivery(ctx context.Context, stage webhook.Stage, ob webhook.Observation, start time.Time) (context.Context, func(webhook.Result)) {
	d := &delivery{provider: ob.Provider, receiver: ob.Receiver, tenant: ob.Tenant, id: ob.DeliveryID, typ: ob.EventType}
	kind, name := trace.SpanKindServer, "webhook receive"
	a := make(attrs, 0, 6)
	a = a.str(AttrProvider, ob.Provider).str(AttrReceiver, ob.Receiver).str(AttrTenant, ob.Tenant).
		str(AttrDeliveryID, ob.DeliveryID).str(AttrEventType, ob.EventType)
	if stage == webhook.StageJob {
		kind, name = trace.SpanKindConsumer, "webhook job"
		if ob.Attempt > 0 {
			a = append(a, AttrJobAttempt.Int(ob.Attempt))
		}
	}
	if ob.Provider != "" {
		name += " " + ob.Provider
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(a...))
	ctx = context.WithValue(ctx, deliveryKey{}, d)
	return ctx, func(r webhook.Result) {
		end := time.Now()
		dur := r.Duration
		if dur <= 0 {
			dur = end.Sub(start)
		}
		d.mu.Lock()
		id, typ, reason := d.id, d.typ, r.Reason
		if r.DeliveryID != "" {
			id = r.DeliveryID
		}
		if r.EventType != "" {
			typ = r.EventType
		}
		if reason == "" {
			reason = d.verifyReason
		}
		d.mu.Unlock()
		if span.IsRecording() {
			a := make(attrs, 0, 5)
			a = a.str(AttrOutcome, string(r.Outcome)).str(AttrReason, reason)
			if id != ob.DeliveryID {
				a = a.str(AttrDeliveryID, id)
			}
			if typ != ob.EventType {
				a = a.str(AttrEventType, typ)
			}
			if r.Status != 0 {
				a = append(a, keyStatus.Int(r.Status))
			}
			span.SetAttributes(a...)
			// A server span is failed by a 5xx only (a 4xx is the
			// client's fault); a job by any outcome but success.
			if (stage == webhook.StageDelivery && r.Status >= 500) ||
				(stage == webhook.StageJob && failed(r.Outcome)) ||
				(stage == webhook.StageDelivery && r.Status == 0 && failed(r.Outcome) && r.Outcome != webhook.OutcomeRefused) {
				recordError(span, r.Err, string(r.Outcome))
			}
		}
		span.End(trace.WithTimestamp(end))

		out := AttrOutcome.String(string(r.Outcome))
		if stage == webhook.StageJob {
			o.inst.inboxJobs.Add(ctx, 1, metric.WithAttributes(o.base(d.provider, d.receiver, d.tenant, out)...))
			switch r.Outcome {
			case webhook.OutcomeDeadLettered:
				o.inst.deadLetters.Add(ctx, 1, metric.WithAttributes(o.base(d.provider, d.receiver, d.tenant)...))
			case webhook.OutcomeDuplicate:
				o.inst.duplicates.Add(ctx, 1, metric.WithAttributes(o.base(d.provider, d.receiver, d.tenant, AttrStage.String(string(stage)))...))
			}
			return
		}
		ma := o.base(d.provider, d.receiver, d.tenant, out)
		if r.Status != 0 {
			ma = append(ma, keyStatus.Int(r.Status))
		}
		set := metric.WithAttributeSet(attribute.NewSet(ma...))
		o.inst.deliveries.Add(ctx, 1, set)
		o.inst.deliveryDuration.Record(ctx, dur.Seconds(), set)
		switch r.Outcome {
		case webhook.OutcomeRefused:
			if reason == "" {
				reason = "other"
			}
			o.inst.verifyFailures.Add(ctx, 1, metric.WithAttributes(o.base(d.provider, d.receiver, d.tenant, AttrReason.String(reason))...))
		case webhook.OutcomeDuplicate:
			o.inst.duplicates.Add(ctx, 1, metric.WithAttributes(o.base(d.provider, d.receiver, d.tenant, AttrStage.String(string(stage)))...))
		}
	}
}
