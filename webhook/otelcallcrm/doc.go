// Package otelcallcrm adapts callcrm-go's observer hooks to OpenTelemetry
// traces and metrics. It is a separate module so that a program using
// only the core SDK does not depend on OpenTelemetry.
//
// One Observer serves every part of the SDK: pass it to receivers
// (webhook.WithObserver), inboxes (riverinbox.WithObserver,
// webhook.WithInboxObserver) and clients (siro.WithObserver,
// engrami.WithObserver).
//
//	obs, err := otelcallcrm.New() // the global providers; or Setup
//	h, err := sivo.NewHandler(secrets, callbacks, webhook.WithObserver(obs), webhook.WithInbox(inbox))
//	c, err := siro.NewClient(siro.WithOrgToken(token), siro.WithObserver(obs))
//
// # Traces
//
// Each delivery is a server span "webhook receive <provider>" with the
// attributes callcrm.provider, callcrm.receiver, callcrm.tenant (when
// the receiver resolves tenants), callcrm.delivery.id,
// callcrm.event.type, callcrm.outcome, callcrm.reason and
// http.response.status_code. Its children are "webhook verify",
// "webhook store reserve" (commit, extend, release), "webhook callback"
// and, in enqueue mode, the producer span "webhook enqueue". The inbox
// stores the enqueue span's W3C trace context with the job (Inject); the
// job's consumer span "webhook job <provider>" continues it (Extract), and
// the job's "webhook callback" is its child, so one trace shows request,
// enqueue, job and callback, on whichever replica ran the job.
//
// The delivery span is a child of whatever span the request's context
// already carries; the engine reads no trace header itself, since a
// vendor's request is not part of your trace, and anyone can send one. If
// you wrap a receiver in otelhttp.NewHandler, give it
// otelhttp.WithPublicEndpoint(): then the sender's traceparent is a link
// of a new trace, not its parent. Without it whoever sends a request
// picks your trace id and, under a parent-based sampler, whether it is
// sampled (a forger can have every forgery recorded). The inbox stores
// the request context's baggage with each job (the default propagator);
// if a middleware extracts baggage from the sender's headers, pass
// WithPropagator(propagation.TraceContext{}) so a sender's baggage is
// not kept and restored on your workers.
//
// Each client call is a client span "<service> <operation>" ("siro-org
// Recordings.Get") with one client span per HTTP attempt, named after its
// method, with http.request.method, callcrm.attempt,
// http.request.resend_count, http.response.status_code, error.type and
// callcrm.retry.wait (seconds, when another attempt follows). Rate
// limiter waits and token mints are events on the span in their context.
//
// A delivery's stages and a call's attempts start spans only when the
// delivery's or call's own span is recorded: in a trace that is not
// sampled they cost no span and no allocation, even under a sampler that
// would sample a child of an unsampled parent (the parent-based samplers
// OpenTelemetry recommends never do). Their metrics are recorded either
// way.
//
// Spans never carry a secret, a body, a header or a URL. An error is
// recorded by its message only (an "exception" event with
// exception.message, and the span status), with any URL in it cut to its
// scheme and host (a transport error quotes its request's URL, ids and
// query included); the SDK's errors are secret-free. Every string
// recorded is valid UTF-8 (invalid bytes from a request, such as a tenant
// path segment, become U+FFFD), so no exporter refuses a batch for it. A 4xx answer does not make a delivery span an error (the
// sender's fault); a 5xx does, and so does any failed stage.
//
// # Metrics
//
// Names follow the semantic conventions where one exists
// (http.client.request.duration) and are under "callcrm." otherwise.
// Durations are histograms in seconds.
//
//	callcrm.webhook.deliveries             counter    provider, receiver, outcome, http.response.status_code
//	callcrm.webhook.delivery.duration      histogram  same
//	callcrm.webhook.verification.failures  counter    provider, receiver, reason (signature, timestamp, malformed, too_large, ...)
//	callcrm.webhook.duplicates             counter    provider, receiver, stage (delivery or job)
//	callcrm.webhook.callback.duration      histogram  provider, receiver, outcome
//	callcrm.webhook.store.duration         histogram  provider, receiver, outcome, store.op
//	callcrm.inbox.jobs                     counter    provider, receiver, outcome (processed, retried, dead_lettered, ...)
//	callcrm.inbox.dead_letters             counter    provider, receiver
//	callcrm.inbox.depth                    gauge      (WithInboxDepth)
//	callcrm.client.requests                counter    service, operation, http.response.status_code, error.type
//	callcrm.client.request.duration        histogram  same
//	http.client.request.duration           histogram  service, http.request.method, http.response.status_code, error.type
//	callcrm.client.retries                 counter    service, operation
//	callcrm.client.rate_limit.wait         histogram  service
//	callcrm.client.token.mints             counter    service, outcome (ok, error)
//	callcrm.client.token.mint.duration     histogram  service, outcome
//
// (provider is callcrm.provider, and so on.) Every metric attribute is
// bounded: vendors, your receiver names, the closed sets of outcomes and
// reasons, HTTP statuses, the clients' fixed operation names. A delivery
// id, event type, phone number, URL or path never is one. The tenant is
// not a metric attribute by default, since each tenant would multiply
// every series: WithTenantAttribute adds it through a function you give,
// which must map tenants to a small set of labels.
//
// Metrics are recorded whether or not the trace is sampled; under load,
// sample traces (sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))
// and keep every metric.
package otelcallcrm
