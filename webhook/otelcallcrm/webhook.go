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

	o     *Observer
	span  trace.Span
	start time.Time
	stage webhook.Stage
	ob    webhook.Observation // as the delivery started
	route *route              // ob's provider and receiver and the tenant's metric label

	mu           sync.Mutex
	id, typ      string
	verifyReason string
	// buf holds the attributes a span ending under mu is given: the
	// variadic slice handed to SetAttributes escapes, and d is on the
	// heap already.
	buf [5]attribute.KeyValue
}

// Value answers deliveryKey with d and any other key from the span's
// context.
func (d *delivery) Value(key any) any {
	if _, ok := key.(deliveryKey); ok {
		return d
	}
	return d.Context.Value(key)
}

// learn keeps what a stage found out; d.mu is held.
func (d *delivery) learn(id, typ, verifyReason string) {
	if id != "" {
		d.id = id
	}
	if typ != "" {
		d.typ = typ
	}
	if verifyReason != "" {
		d.verifyReason = verifyReason
	}
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
	return prefix + " " + validUTF8(v)
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
	d := deliveryFrom(ctx)
	if d == nil { // no delivery span: the stage's metrics use ob alone
		d = &delivery{Context: ctx, o: o, ob: ob, route: o.route(ob.Provider, ob.Receiver, o.label(ob.Tenant))}
	}
	op, evType := ob.Op, ob.EventType
	if d.span != nil && !d.span.IsRecording() {
		return ctx, d.unrecordedStage(stage, op)
	}
	sctx, span := o.tracer.Start(ctx, stageName(stage, op), o.kinds[stageKind(stage)]...)
	start := clockStart(span)
	// The closure is the stage's one allocation (besides the SDK's span).
	return sctx, func(r webhook.Result) {
		dur := elapsed(r, span, start)
		var reason string
		if stage == webhook.StageVerify && r.Outcome == webhook.OutcomeRefused {
			reason = r.Reason
		}
		d.endStage(span, stage, r, op, evType, reason)
		span.End()
		d.stageEnded(stage, op, r, dur)
	}
}

// endStage keeps what a stage learnt and sets its span's attributes,
// under d.mu, unlocked even if the span panics (a later stage's end and
// the delivery's own would otherwise wait for it forever, and the
// request would never be answered).
func (d *delivery) endStage(span trace.Span, stage webhook.Stage, r webhook.Result, op, evType, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.learn(r.DeliveryID, r.EventType, reason)
	// A stage that did its work ("ok") needs no attribute: its name says
	// what it was (the store op included) and its status is unset. The
	// callback's span always says its outcome and type.
	if span.IsRecording() && (r.Outcome != webhook.OutcomeOK || r.Reason != "" || stage == webhook.StageCallback) {
		endStageSpan(span, d.buf[:0], stage, r, op, firstOf(evType, r.EventType))
	}
}

// unrecordedStage is the end of a stage inside a delivery whose span is
// not recorded (its trace was not sampled): the stage gets no span of its
// own, since a child of an unsampled delivery is not sampled either under
// the parent-based samplers OpenTelemetry recommends, and starting one
// would cost two allocations for nothing. Its metrics are recorded as
// always.
func (d *delivery) unrecordedStage(stage webhook.Stage, op string) func(webhook.Result) {
	start := time.Now()
	return func(r webhook.Result) {
		dur := r.Duration
		if dur <= 0 {
			dur = time.Since(start)
		}
		var reason string
		if stage == webhook.StageVerify && r.Outcome == webhook.OutcomeRefused {
			reason = r.Reason
		}
		d.mu.Lock()
		d.learn(r.DeliveryID, r.EventType, reason)
		d.mu.Unlock()
		d.stageEnded(stage, op, r, dur)
	}
}

// endStageSpan sets the attributes of a stage's span that did not simply
// succeed, built in buf.
func endStageSpan(span trace.Span, buf attrs, stage webhook.Stage, r webhook.Result, op, evType string) {
	a := buf.str(AttrOutcome, string(r.Outcome)).str(AttrReason, r.Reason)
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

// stageEnded records a stage's metrics.
func (d *delivery) stageEnded(stage webhook.Stage, op string, r webhook.Result, dur time.Duration) {
	switch stage {
	case webhook.StageCallback:
		d.o.inst.callbackDuration.Record(d, dur.Seconds(), d.route.set(kindCallback, string(r.Outcome), "", 0).rec...)
	case webhook.StageStore:
		d.o.inst.storeDuration.Record(d, dur.Seconds(), d.route.set(kindStore, string(r.Outcome), op, 0).rec...)
	}
}

// startTimer is a span that knows when it started (the SDK's recording
// spans do).
type startTimer interface{ StartTime() time.Time }

// clockStart is the time a stage whose span just started is measured
// from when its Result has no Duration (the engine always sets one):
// zero for a span that knows its own start time, read only if needed,
// else the clock's now.
func clockStart(span trace.Span) time.Time {
	if _, ok := span.(startTimer); ok {
		return time.Time{}
	}
	return time.Now()
}

// elapsed is r.Duration, or else the time since start (clockStart's).
func elapsed(r webhook.Result, span trace.Span, start time.Time) time.Duration {
	if r.Duration > 0 {
		return r.Duration
	}
	if st, ok := span.(startTimer); ok && start.IsZero() {
		start = st.StartTime()
	}
	return time.Since(start)
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

// spanStart is the name and start options of a delivery's or job's span.
type spanStart struct {
	name string
	opts []trace.SpanStartOption // kind and the provider and receiver attributes
}

// route is what every delivery of one provider and receiver (and tenant
// metric label) shares: its spans' names and start options and its
// metric attribute sets, found with one lookup per delivery.
type route struct {
	key          routeKey
	receive, job spanStart
	sets         cowMap[routeSetKey, setOpts]
}

type routeKey struct{ provider, receiver, tenant string }

// routeSetKey is a setKey without the route's fields.
type routeSetKey struct {
	kind   setKind
	c, d   string
	status int
}

func (o *Observer) route(provider, receiver, tenant string) *route {
	k := routeKey{provider, receiver, tenant}
	if rt, ok := o.routes.load(k); ok {
		return rt
	}
	attrs := trace.WithAttributes(AttrProvider.String(validUTF8(provider)), AttrReceiver.String(validUTF8(receiver)))
	return o.routes.store(k, &route{key: k,
		receive: spanStart{name: spanName(receiveNames, "webhook receive", provider),
			opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), attrs}},
		job: spanStart{name: spanName(jobNames, "webhook job", provider),
			opts: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), attrs}},
	})
}

// set returns the route's metric attribute set of kind with c, d and
// status (see setKey).
func (rt *route) set(kind setKind, c, d string, status int) setOpts {
	k := routeSetKey{kind, c, d, status}
	if opts, ok := rt.sets.load(k); ok {
		return opts
	}
	return rt.sets.store(k, newSetOpts(setKey{kind: kind, a: rt.key.provider, b: rt.key.receiver, tenant: rt.key.tenant, c: c, d: d, status: status}))
}

func (o *Observer) startDelivery(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	d := &delivery{o: o, stage: stage, ob: ob, id: ob.DeliveryID, typ: ob.EventType,
		route: o.route(ob.Provider, ob.Receiver, o.label(ob.Tenant))}
	ss := d.route.receive
	if stage == webhook.StageJob {
		ss = d.route.job
	}
	opts := ss.opts
	if ob.Tenant != "" || ob.DeliveryID != "" || ob.EventType != "" || (stage == webhook.StageJob && ob.Attempt > 0) {
		a := make(attrs, 0, 4).str(AttrTenant, ob.Tenant).str(AttrDeliveryID, ob.DeliveryID).str(AttrEventType, ob.EventType)
		if stage == webhook.StageJob && ob.Attempt > 0 {
			a = append(a, AttrJobAttempt.Int(ob.Attempt))
		}
		opts = append(opts[:len(opts):len(opts)], trace.WithAttributes(a...))
	}
	d.Context, d.span = o.tracer.Start(ctx, ss.name, opts...)
	d.start = clockStart(d.span)
	return d, d.end
}

// end ends the delivery's or job's span and records its metrics.
func (d *delivery) end(r webhook.Result) {
	dur := elapsed(r, d.span, d.start)
	reason := d.endSpan(r)
	d.span.End()
	d.count(r, reason, dur)
}

// endSpan sets the delivery's span's final attributes under d.mu
// (unlocked even if the span panics) and returns the delivery's reason.
func (d *delivery) endSpan(r webhook.Result) string {
	d.mu.Lock()
	defer d.mu.Unlock()
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
	if d.span.IsRecording() {
		endDeliverySpan(d.span, d.buf[:0], d.stage, &d.ob, r, id, typ, reason)
	}
	return reason
}

// endDeliverySpan sets what the delivery's or job's span learnt, built
// in buf.
func endDeliverySpan(span trace.Span, buf attrs, stage webhook.Stage, ob *webhook.Observation, r webhook.Result, id, typ, reason string) {
	a := buf.str(AttrOutcome, string(r.Outcome)).str(AttrReason, reason)
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

// count records the metrics of a delivery or an inbox job.
func (d *delivery) count(r webhook.Result, reason string, dur time.Duration) {
	in, rt := &d.o.inst, d.route
	if d.stage == webhook.StageJob {
		in.inboxJobs.Add(d, 1, rt.set(kindJob, string(r.Outcome), "", 0).add...)
		switch r.Outcome {
		case webhook.OutcomeDeadLettered:
			in.deadLetters.Add(d, 1, rt.set(kindDead, "", "", 0).add...)
		case webhook.OutcomeDuplicate:
			in.duplicates.Add(d, 1, rt.set(kindDuplicate, string(d.stage), "", 0).add...)
		}
		return
	}
	set := rt.set(kindDelivery, string(r.Outcome), "", r.Status)
	in.deliveries.Add(d, 1, set.add...)
	in.deliveryDuration.Record(d, dur.Seconds(), set.rec...)
	switch r.Outcome {
	case webhook.OutcomeRefused:
		if reason == "" {
			reason = "other"
		}
		in.verifyFailures.Add(d, 1, rt.set(kindRefusal, reason, "", 0).add...)
	case webhook.OutcomeDuplicate:
		in.duplicates.Add(d, 1, rt.set(kindDuplicate, string(d.stage), "", 0).add...)
	}
}
