package otelcallcrm

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/webhook"
)

// deliveryKey is the context key under which a *delivery answers with
// itself.
type deliveryKey struct{}

// delivery is one delivery's (or inbox job's) span and what the adapter
// learns about it across its stages. It is also the context its stages
// run under: it embeds the span's context and answers deliveryKey with
// itself, so observing a delivery allocates it, its end function and the
// SDK's span, nothing else.
type delivery struct {
	context.Context // carrying span

	o      *Observer
	span   trace.Span
	start  time.Time
	stage  webhook.Stage
	ob     webhook.Observation // as the delivery started
	tenant string              // the tenant's metric label, "" without WithTenantAttribute

	mu           sync.Mutex
	id, typ      string
	verifyReason string
}

// Value answers deliveryKey with d and any other key from the span's
// context.
func (d *delivery) Value(key any) any {
	if _, ok := key.(deliveryKey); ok {
		return d
	}
	return d.Context.Value(key)
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
	switch stage {
	case webhook.StageDelivery, webhook.StageJob:
		return o.startDelivery(ctx, stage, ob)
	}
	return o.startStage(ctx, stage, ob)
}

// startStage starts a stage inside a delivery (or, for an inbox calling
// the engine without one, on its own).
func (o *Observer) startStage(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	start := time.Now()
	d := deliveryFrom(ctx)
	if d == nil { // no delivery span: the stage's metrics use ob alone
		d = &delivery{Context: ctx, o: o, ob: ob, tenant: o.label(ob.Tenant)}
	}
	op, evType := ob.Op, ob.EventType
	sctx, span := o.tracer.Start(ctx, stageName(stage, op), o.kinds[stageKind(stage)]...)
	// The closure is the stage's one allocation (besides the SDK's span).
	return sctx, func(r webhook.Result) {
		dur := r.Duration
		if dur <= 0 {
			dur = time.Since(start)
		}
		// A stage that did its work ("ok") needs no attribute: its name
		// says what it was (the store op included) and its status is
		// unset. The callback's span always says its outcome and type.
		if span.IsRecording() && (r.Outcome != webhook.OutcomeOK || r.Reason != "" || stage == webhook.StageCallback) {
			endStageSpan(span, stage, r, op, firstOf(evType, r.EventType))
		}
		span.End()
		d.stageEnded(stage, op, r, dur)
	}
}

// endStageSpan sets the attributes of a stage's span that did not simply
// succeed.
func endStageSpan(span trace.Span, stage webhook.Stage, r webhook.Result, op, evType string) {
	var buf [3]attribute.KeyValue // outcome, reason, and op or type
	a := attrs(buf[:0]).str(AttrOutcome, string(r.Outcome)).str(AttrReason, r.Reason)
	switch stage {
	case webhook.StageStore:
		a = a.str(AttrStoreOp, op)
	case webhook.StageCallback:
		a = a.str(AttrEventType, evType)
	}
	span.SetAttributes(a...)
	if failed(r.Outcome) {
		recordError(span, r.Err, string(r.Outcome))
	}
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

// stageEnded records what a stage inside d teaches: the delivery's id,
// type and refusal reason, and the stage's metrics.
func (d *delivery) stageEnded(stage webhook.Stage, op string, r webhook.Result, dur time.Duration) {
	o, ob := d.o, &d.ob
	switch stage {
	case webhook.StageCallback:
		o.inst.callbackDuration.Record(d, dur.Seconds(), o.sets.get(setKey{kind: kindCallback,
			a: ob.Provider, b: ob.Receiver, tenant: d.tenant, c: string(r.Outcome)}).rec...)
	case webhook.StageStore:
		o.inst.storeDuration.Record(d, dur.Seconds(), o.sets.get(setKey{kind: kindStore,
			a: ob.Provider, b: ob.Receiver, tenant: d.tenant, c: string(r.Outcome), d: op}).rec...)
	}
	var reason string
	if stage == webhook.StageVerify && r.Outcome == webhook.OutcomeRefused {
		reason = r.Reason
	}
	d.learn(r.DeliveryID, r.EventType, reason)
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

// spanStart is the name and start options of a delivery's or job's span
// for one provider and receiver.
type spanStart struct {
	name string
	opts []trace.SpanStartOption // kind and the provider and receiver attributes
}

type spanStartKey struct {
	job                bool
	provider, receiver string
}

func (o *Observer) spanStart(job bool, provider, receiver string) spanStart {
	k := spanStartKey{job, provider, receiver}
	if ss, ok := o.starts.load(k); ok {
		return ss
	}
	ss := spanStart{name: spanName(receiveNames, "webhook receive", provider), opts: []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(AttrProvider.String(provider), AttrReceiver.String(receiver)),
	}}
	if job {
		ss.name, ss.opts[0] = spanName(jobNames, "webhook job", provider), trace.WithSpanKind(trace.SpanKindConsumer)
	}
	return o.starts.store(k, ss)
}

func (o *Observer) startDelivery(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	d := &delivery{o: o, start: time.Now(), stage: stage, ob: ob, tenant: o.label(ob.Tenant), id: ob.DeliveryID, typ: ob.EventType}
	ss := o.spanStart(stage == webhook.StageJob, ob.Provider, ob.Receiver)
	opts := ss.opts
	if ob.Tenant != "" || ob.DeliveryID != "" || ob.EventType != "" || (stage == webhook.StageJob && ob.Attempt > 0) {
		a := make(attrs, 0, 4).str(AttrTenant, ob.Tenant).str(AttrDeliveryID, ob.DeliveryID).str(AttrEventType, ob.EventType)
		if stage == webhook.StageJob && ob.Attempt > 0 {
			a = append(a, AttrJobAttempt.Int(ob.Attempt))
		}
		opts = append(opts[:len(opts):len(opts)], trace.WithAttributes(a...))
	}
	d.Context, d.span = o.tracer.Start(ctx, ss.name, opts...)
	return d, d.end
}

// end ends the delivery's or job's span and records its metrics.
func (d *delivery) end(r webhook.Result) {
	dur := r.Duration
	if dur <= 0 {
		dur = time.Since(d.start)
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
	endDeliverySpan(d.span, d.stage, &d.ob, r, id, typ, reason)
	d.o.countDelivery(d, r, reason, dur)
}

// endDeliverySpan sets what the delivery's or job's span learnt and ends
// it.
func endDeliverySpan(span trace.Span, stage webhook.Stage, ob *webhook.Observation, r webhook.Result, id, typ, reason string) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	var buf [5]attribute.KeyValue
	a := attrs(buf[:0]).str(AttrOutcome, string(r.Outcome)).str(AttrReason, reason)
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
func (o *Observer) countDelivery(d *delivery, r webhook.Result, reason string, dur time.Duration) {
	p, rc, tenant := d.ob.Provider, d.ob.Receiver, d.tenant
	if d.stage == webhook.StageJob {
		o.inst.inboxJobs.Add(d, 1, o.sets.get(setKey{kind: kindJob, a: p, b: rc, tenant: tenant, c: string(r.Outcome)}).add...)
		switch r.Outcome {
		case webhook.OutcomeDeadLettered:
			o.inst.deadLetters.Add(d, 1, o.sets.get(setKey{kind: kindDead, a: p, b: rc, tenant: tenant}).add...)
		case webhook.OutcomeDuplicate:
			o.inst.duplicates.Add(d, 1, o.sets.get(setKey{kind: kindDuplicate, a: p, b: rc, tenant: tenant, c: string(d.stage)}).add...)
		}
		return
	}
	set := o.sets.get(setKey{kind: kindDelivery, a: p, b: rc, tenant: tenant, c: string(r.Outcome), status: r.Status})
	o.inst.deliveries.Add(d, 1, set.add...)
	o.inst.deliveryDuration.Record(d, dur.Seconds(), set.rec...)
	switch r.Outcome {
	case webhook.OutcomeRefused:
		if reason == "" {
			reason = "other"
		}
		o.inst.verifyFailures.Add(d, 1, o.sets.get(setKey{kind: kindRefusal, a: p, b: rc, tenant: tenant, c: reason}).add...)
	case webhook.OutcomeDuplicate:
		o.inst.duplicates.Add(d, 1, o.sets.get(setKey{kind: kindDuplicate, a: p, b: rc, tenant: tenant, c: string(d.stage)}).add...)
	}
}
