package otelcallcrm

import (
	"context"
	"sync"
	"time"

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

func (d *delivery) learn(id, typ, verifyReason string) {
	if id == "" && typ == "" && verifyReason == "" {
		return
	}
	d.mu.Lock()
	if id != "" {
		d.id = id
	}
	if typ != "" {
		d.typ = typ
	}
	if verifyReason != "" {
		d.verifyReason = verifyReason
	}
	d.mu.Unlock()
}

func deliveryFrom(ctx context.Context) *delivery {
	d, _ := ctx.Value(deliveryKey{}).(*delivery)
	return d
}

// label is the tenant's metric attribute value ("" without
// WithTenantAttribute).
func (o *Observer) label(tenant string) string {
	if o.tenant == nil || tenant == "" {
		return ""
	}
	return o.tenant(tenant)
}

// Span names, constant so starting a span does not build one.
var (
	receiveNames = map[string]string{"siro": "webhook receive siro", "symbo": "webhook receive symbo", "callsync": "webhook receive callsync",
		"sivo": "webhook receive sivo", "engrami": "webhook receive engrami", "webhook": "webhook receive webhook"}
	jobNames = map[string]string{"siro": "webhook job siro", "symbo": "webhook job symbo", "callsync": "webhook job callsync",
		"sivo": "webhook job sivo", "engrami": "webhook job engrami", "webhook": "webhook job webhook"}
	storeNames = map[string]string{"reserve": "webhook store reserve", "extend": "webhook store extend",
		"commit": "webhook store commit", "release": "webhook store release"}
)

func spanName(names map[string]string, prefix, v string) string {
	if n, ok := names[v]; ok {
		return n
	}
	if v == "" {
		return prefix
	}
	return prefix + " " + v
}

// Start implements webhook.Observer: StageDelivery starts a server span
// ("webhook receive sivo"), StageJob a consumer span ("webhook job sivo")
// continuing the context Extract returned, and the other stages child
// spans of the one in ctx ("webhook verify", "webhook store reserve",
// "webhook callback", "webhook enqueue"). The returned function ends the
// span and records the stage's metrics.
func (o *Observer) Start(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	start := time.Now()
	switch stage {
	case webhook.StageDelivery, webhook.StageJob:
		return o.startDelivery(ctx, stage, ob, start)
	}
	// Every variable the end function captures is assigned once, so the
	// closure holds copies and is the stage's one allocation.
	d := deliveryFrom(ctx)
	sob := inherit(ob, d)
	name := stageName(stage, sob.Op)
	sctx, span := o.tracer.Start(ctx, name, o.kinds[stageKind(stage)]...)
	return sctx, func(r webhook.Result) {
		dur := r.Duration
		if dur <= 0 {
			dur = time.Since(start)
		}
		// A stage that did its work ("ok") needs no attribute: its name
		// says what it was (the store op included) and its status is
		// unset. The callback's span always says its outcome and type.
		if span.IsRecording() && (r.Outcome != webhook.OutcomeOK || r.Reason != "" || stage == webhook.StageCallback) {
			a := make(attrs, 0, 4)
			a = a.str(AttrOutcome, string(r.Outcome)).str(AttrReason, r.Reason)
			switch stage {
			case webhook.StageStore:
				a = a.str(AttrStoreOp, sob.Op)
			case webhook.StageCallback:
				a = a.str(AttrEventType, firstOf(sob.EventType, r.EventType))
			}
			span.SetAttributes(a...)
			if failed(r.Outcome) {
				recordError(span, r.Err, string(r.Outcome))
			}
		}
		span.End()
		o.stageEnded(sctx, stage, sob, d, r, dur)
	}
}

// inherit fills what ob lacks from the delivery it runs in.
func inherit(ob webhook.Observation, d *delivery) webhook.Observation {
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
	return ob
}

func stageName(stage webhook.Stage, op string) string {
	switch stage {
	case webhook.StageVerify:
		return "webhook verify"
	case webhook.StageStore:
		return spanName(storeNames, "webhook store", op)
	case webhook.StageCallback:
		return "webhook callback"
	case webhook.StageEnqueue:
		return "webhook enqueue"
	}
	return "webhook " + string(stage)
}

func stageKind(stage webhook.Stage) trace.SpanKind {
	switch stage {
	case webhook.StageDelivery:
		return trace.SpanKindServer
	case webhook.StageJob:
		return trace.SpanKindConsumer
	case webhook.StageEnqueue:
		return trace.SpanKindProducer
	}
	return trace.SpanKindInternal
}

// stageEnded records what a stage inside a delivery teaches: the
// delivery's id, type and refusal reason, and the stage's metrics.
func (o *Observer) stageEnded(ctx context.Context, stage webhook.Stage, ob webhook.Observation, d *delivery, r webhook.Result, dur time.Duration) {
	switch stage {
	case webhook.StageCallback:
		o.inst.callbackDuration.Record(ctx, dur.Seconds(), o.sets.get(setKey{kind: kindCallback,
			a: ob.Provider, b: ob.Receiver, tenant: o.label(ob.Tenant), c: string(r.Outcome)}).rec...)
	case webhook.StageStore:
		o.inst.storeDuration.Record(ctx, dur.Seconds(), o.sets.get(setKey{kind: kindStore,
			a: ob.Provider, b: ob.Receiver, tenant: o.label(ob.Tenant), c: string(r.Outcome), d: ob.Op}).rec...)
	}
	if d != nil {
		var reason string
		if stage == webhook.StageVerify && r.Outcome == webhook.OutcomeRefused {
			reason = r.Reason
		}
		d.learn(r.DeliveryID, r.EventType, reason)
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

func (o *Observer) startDelivery(ctx context.Context, stage webhook.Stage, ob webhook.Observation, start time.Time) (context.Context, func(webhook.Result)) {
	d := &delivery{provider: ob.Provider, receiver: ob.Receiver, tenant: ob.Tenant, id: ob.DeliveryID, typ: ob.EventType}
	a := make(attrs, 0, 6)
	a = append(a, AttrProvider.String(ob.Provider), AttrReceiver.String(ob.Receiver))
	a = a.str(AttrTenant, ob.Tenant).str(AttrDeliveryID, ob.DeliveryID).str(AttrEventType, ob.EventType)
	name := spanName(receiveNames, "webhook receive", ob.Provider)
	if stage == webhook.StageJob {
		name = spanName(jobNames, "webhook job", ob.Provider)
		if ob.Attempt > 0 {
			a = append(a, AttrJobAttempt.Int(ob.Attempt))
		}
	}
	sctx, span := o.tracer.Start(ctx, name, o.kinds[stageKind(stage)][0], trace.WithAttributes(a...))
	dctx := context.WithValue(sctx, deliveryKey{}, d)
	return dctx, func(r webhook.Result) {
		dur := r.Duration
		if dur <= 0 {
			dur = time.Since(start)
		}
		d.mu.Lock()
		id, typ, reason := d.id, d.typ, r.Reason
		if r.DeliveryID != "" {
			id = r.DeliveryID
		}
		if r.EventType != "" {
			typ = r.EventType
		}
		if reason == "" && r.Outcome == webhook.OutcomeRefused {
			reason = d.verifyReason
		}
		d.mu.Unlock()
		endDeliverySpan(span, stage, ob, r, id, typ, reason)
		o.countDelivery(sctx, stage, d, r, reason, dur)
	}
}

// endDeliverySpan sets what the delivery's or job's span learnt and ends
// it.
func endDeliverySpan(span trace.Span, stage webhook.Stage, ob webhook.Observation, r webhook.Result, id, typ, reason string) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
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
	// A server span is failed by a 5xx only (a 4xx is the sender's
	// fault); a job by any outcome but success.
	if (stage == webhook.StageDelivery && r.Status >= 500) ||
		(stage == webhook.StageJob && failed(r.Outcome)) ||
		(stage == webhook.StageDelivery && r.Status == 0 && failed(r.Outcome) && r.Outcome != webhook.OutcomeRefused) {
		recordError(span, r.Err, string(r.Outcome))
	}
}

// countDelivery records the metrics of a delivery or an inbox job.
func (o *Observer) countDelivery(ctx context.Context, stage webhook.Stage, d *delivery, r webhook.Result, reason string, dur time.Duration) {
	tenant := o.label(d.tenant)
	if stage == webhook.StageJob {
		o.inst.inboxJobs.Add(ctx, 1, o.sets.get(setKey{kind: kindJob, a: d.provider, b: d.receiver, tenant: tenant, c: string(r.Outcome)}).add...)
		switch r.Outcome {
		case webhook.OutcomeDeadLettered:
			o.inst.deadLetters.Add(ctx, 1, o.sets.get(setKey{kind: kindDead, a: d.provider, b: d.receiver, tenant: tenant}).add...)
		case webhook.OutcomeDuplicate:
			o.inst.duplicates.Add(ctx, 1, o.sets.get(setKey{kind: kindDuplicate, a: d.provider, b: d.receiver, tenant: tenant, c: string(stage)}).add...)
		}
		return
	}
	set := o.sets.get(setKey{kind: kindDelivery, a: d.provider, b: d.receiver, tenant: tenant, c: string(r.Outcome), status: r.Status})
	o.inst.deliveries.Add(ctx, 1, set.add...)
	o.inst.deliveryDuration.Record(ctx, dur.Seconds(), set.rec...)
	switch r.Outcome {
	case webhook.OutcomeRefused:
		if reason == "" {
			reason = "other"
		}
		o.inst.verifyFailures.Add(ctx, 1, o.sets.get(setKey{kind: kindRefusal, a: d.provider, b: d.receiver, tenant: tenant, c: reason}).add...)
	case webhook.OutcomeDuplicate:
		o.inst.duplicates.Add(ctx, 1, o.sets.get(setKey{kind: kindDuplicate, a: d.provider, b: d.receiver, tenant: tenant, c: string(stage)}).add...)
	}
}
