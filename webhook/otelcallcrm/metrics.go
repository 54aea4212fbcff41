package otelcallcrm

import (
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attribute keys of callcrm's own spans and metrics. The HTTP ones
// (http.request.method, http.response.status_code,
// http.request.resend_count) and error.type follow the OpenTelemetry
// semantic conventions.
const (
	// AttrProvider is the vendor ("sivo", "siro", ...). Metric attribute.
	AttrProvider = attribute.Key("callcrm.provider")
	// AttrReceiver is the receiver's name (webhook.WithName). Metric
	// attribute: names are configured by you, so bounded.
	AttrReceiver = attribute.Key("callcrm.receiver")
	// AttrTenant is the tenant a delivery was addressed to. Span
	// attribute; a metric attribute only with WithTenantAttribute.
	AttrTenant = attribute.Key("callcrm.tenant")
	// AttrEventType is the vendor's event type. Span attribute.
	AttrEventType = attribute.Key("callcrm.event.type")
	// AttrDeliveryID is the vendor's delivery id. Span attribute only,
	// never a metric attribute (unbounded).
	AttrDeliveryID = attribute.Key("callcrm.delivery.id")
	// AttrOutcome is a webhook.Outcome ("processed", "refused", ...).
	// Metric attribute.
	AttrOutcome = attribute.Key("callcrm.outcome")
	// AttrReason is a webhook.Result reason ("signature", "timestamp",
	// ...). Metric attribute.
	AttrReason = attribute.Key("callcrm.reason")
	// AttrStoreOp is the dedupe store operation ("reserve", "commit",
	// ...). Metric attribute.
	AttrStoreOp = attribute.Key("callcrm.store.op")
	// AttrStage is where a duplicate was seen ("delivery" or "job").
	// Metric attribute.
	AttrStage = attribute.Key("callcrm.stage")
	// AttrJobAttempt is an inbox job's attempt number (1 first). Span
	// attribute.
	AttrJobAttempt = attribute.Key("callcrm.job.attempt")
	// AttrService is a client's service ("siro", "engrami"). Metric
	// attribute.
	AttrService = attribute.Key("callcrm.service")
	// AttrOperation is a client's SDK method ("ListCalls"). Metric
	// attribute: a fixed set of method names, never a URL.
	AttrOperation = attribute.Key("callcrm.operation")
	// AttrAttempt is an HTTP attempt's number (1 first). Span attribute.
	AttrAttempt = attribute.Key("callcrm.attempt")
	// AttrRetryWait is the wait, in seconds, planned after an attempt
	// before the next one. Span attribute.
	AttrRetryWait = attribute.Key("callcrm.retry.wait")
)

// Metric names. Ours are under "callcrm."; http.client.request.duration
// is the semantic conventions' histogram. The package documentation lists
// each one's attributes.
const (
	// MetricDeliveries counts deliveries answered.
	MetricDeliveries = "callcrm.webhook.deliveries"
	// MetricDeliveryDuration is the time from arrival to answer.
	MetricDeliveryDuration = "callcrm.webhook.delivery.duration"
	// MetricVerificationFailures counts deliveries refused before any
	// callback, by reason.
	MetricVerificationFailures = "callcrm.webhook.verification.failures"
	// MetricDuplicates counts deliveries already processed.
	MetricDuplicates = "callcrm.webhook.duplicates"
	// MetricCallbackDuration is the duration of the user's callback.
	MetricCallbackDuration = "callcrm.webhook.callback.duration"
	// MetricStoreDuration is the duration of one dedupe store call.
	MetricStoreDuration = "callcrm.webhook.store.duration"
	// MetricInboxJobs counts inbox jobs run, by outcome.
	MetricInboxJobs = "callcrm.inbox.jobs"
	// MetricInboxDeadLetters counts inbox jobs that will not run again.
	MetricInboxDeadLetters = "callcrm.inbox.dead_letters"
	// MetricInboxDepth is the number of deliveries waiting in the inbox
	// (WithInboxDepth).
	MetricInboxDepth = "callcrm.inbox.depth"
	// MetricClientRequests counts client calls (all attempts of one SDK
	// method call).
	MetricClientRequests = "callcrm.client.requests"
	// MetricClientDuration is the duration of one client call.
	MetricClientDuration = "callcrm.client.request.duration"
	// MetricHTTPClientDuration is the duration of one HTTP attempt.
	MetricHTTPClientDuration = "http.client.request.duration"
	// MetricClientRetries counts HTTP attempts after the first.
	MetricClientRetries = "callcrm.client.retries"
	// MetricRateLimitWait is the time spent waiting for a client's rate
	// limiter.
	MetricRateLimitWait = "callcrm.client.rate_limit.wait"
	// MetricTokenMints counts OAuth token mints.
	MetricTokenMints = "callcrm.client.token.mints"
	// MetricTokenMintDuration is the duration of one token mint.
	MetricTokenMintDuration = "callcrm.client.token.mint.duration"
)

// secondsBuckets are the semantic conventions' HTTP duration buckets,
// extended to a minute for waits.
var secondsBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60}

type instruments struct {
	deliveries       metric.Int64Counter
	deliveryDuration metric.Float64Histogram
	verifyFailures   metric.Int64Counter
	duplicates       metric.Int64Counter
	callbackDuration metric.Float64Histogram
	storeDuration    metric.Float64Histogram
	inboxJobs        metric.Int64Counter
	deadLetters      metric.Int64Counter
	inboxDepth       metric.Int64ObservableGauge

	clientRequests    metric.Int64Counter
	clientDuration    metric.Float64Histogram
	attemptDuration   metric.Float64Histogram
	clientRetries     metric.Int64Counter
	rateLimitWait     metric.Float64Histogram
	tokenMints        metric.Int64Counter
	tokenMintDuration metric.Float64Histogram
}

func (in *instruments) init(m metric.Meter) error {
	var errs []error
	for _, c := range []struct {
		dst              *metric.Int64Counter
		name, unit, desc string
	}{
		{&in.deliveries, MetricDeliveries, "{delivery}", "Webhook deliveries answered, by provider, receiver, outcome and HTTP status."},
		{&in.verifyFailures, MetricVerificationFailures, "{delivery}", "Deliveries refused before any callback (4xx), by reason: signature, timestamp, malformed, too_large, method, ..."},
		{&in.duplicates, MetricDuplicates, "{delivery}", "Deliveries already processed, acknowledged without running the callback again."},
		{&in.inboxJobs, MetricInboxJobs, "{job}", "Inbox jobs run, by outcome: processed, duplicate, retried, dead_lettered, ..."},
		{&in.deadLetters, MetricInboxDeadLetters, "{job}", "Inbox jobs that will not run again."},
		{&in.clientRequests, MetricClientRequests, "{request}", "Client calls (one SDK method call, all its attempts), by service, operation and final HTTP status."},
		{&in.clientRetries, MetricClientRetries, "{retry}", "HTTP attempts after the first, by service and operation."},
		{&in.tokenMints, MetricTokenMints, "{token}", "OAuth token mints, by service and outcome (ok, error)."},
	} {
		var err error
		*c.dst, err = m.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.desc))
		errs = append(errs, err)
	}
	for _, h := range []struct {
		dst        *metric.Float64Histogram
		name, desc string
	}{
		{&in.deliveryDuration, MetricDeliveryDuration, "Time from a delivery's arrival to its answer."},
		{&in.callbackDuration, MetricCallbackDuration, "Duration of the user's callback for one event, by outcome."},
		{&in.storeDuration, MetricStoreDuration, "Duration of one dedupe store call, by operation and outcome."},
		{&in.clientDuration, MetricClientDuration, "Duration of one client call, all attempts and waits included."},
		{&in.attemptDuration, MetricHTTPClientDuration, "Duration of one HTTP attempt of a client."},
		{&in.rateLimitWait, MetricRateLimitWait, "Time spent waiting for a client's rate limiter before an attempt."},
		{&in.tokenMintDuration, MetricTokenMintDuration, "Duration of one OAuth token mint."},
	} {
		var err error
		*h.dst, err = m.Float64Histogram(h.name, metric.WithUnit("s"), metric.WithDescription(h.desc),
			metric.WithExplicitBucketBoundaries(secondsBuckets...))
		errs = append(errs, err)
	}
	var err error
	in.inboxDepth, err = m.Int64ObservableGauge(MetricInboxDepth, metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries waiting in the inbox."))
	return errors.Join(append(errs, err)...)
}

// semconv keys used here.
var (
	keyStatus      = semconv.HTTPResponseStatusCodeKey
	keyMethod      = semconv.HTTPRequestMethodKey
	keyResendCount = semconv.HTTPRequestResendCountKey
	keyErrorType   = semconv.ErrorTypeKey
)
