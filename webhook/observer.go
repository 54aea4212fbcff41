package webhook

import (
	"context"
	"time"
)

// Stage names one step in the life of a delivery that an Observer sees.
type Stage string

// The stages an Observer is called for, outermost first. A delivery
// answered inline is Delivery > Verify, Store (reserve), Callback, Store
// (commit or release); in enqueue mode it is Delivery > Verify, Enqueue,
// and later, on an inbox worker, Job > Callback.
const (
	// StageDelivery is one HTTP request to a receiver, from arrival to
	// the answer. Its Result carries the status and outcome.
	StageDelivery Stage = "delivery"
	// StageVerify is signature and timestamp verification. A refusal ends
	// it with OutcomeRefused and a Reason.
	StageVerify Stage = "verify"
	// StageStore is one call to the dedupe store; Observation.Op says
	// which (reserve, extend, commit, release).
	StageStore Stage = "store"
	// StageCallback is the user's callback for one event.
	StageCallback Stage = "callback"
	// StageEnqueue is handing a verified delivery to an Inbox.
	StageEnqueue Stage = "enqueue"
	// StageJob is an inbox worker running a stored delivery; it continues
	// the trace of the request that enqueued it (Observer.Extract).
	StageJob Stage = "job"
)

// Outcome classifies how a stage or delivery ended. The set is closed and
// small, so it is safe as a metric attribute.
type Outcome string

// Outcomes.
const (
	OutcomeOK           Outcome = "ok"            // the stage did its work
	OutcomeProcessed    Outcome = "processed"     // callback returned nil
	OutcomeEnqueued     Outcome = "enqueued"      // an inbox took the delivery
	OutcomeDuplicate    Outcome = "duplicate"     // already processed: 2xx, no callback
	OutcomeInProgress   Outcome = "in_progress"   // processing elsewhere: 409
	OutcomeRefused      Outcome = "refused"       // 4xx before any callback
	OutcomeFailed       Outcome = "failed"        // callback error: 5xx, retried
	OutcomePanicked     Outcome = "panicked"      // callback panic: 5xx, retried
	OutcomeTimedOut     Outcome = "timed_out"     // past the callback deadline: 504
	OutcomeUnavailable  Outcome = "unavailable"   // store, inbox or secret source down: 503
	OutcomeRetried      Outcome = "retried"       // an inbox job failed and will run again
	OutcomeDeadLettered Outcome = "dead_lettered" // an inbox job will not run again
)

// Observation is what the engine knows about a delivery when a stage
// starts. Fields unknown yet are empty (the delivery id and event type
// are known only after verification); the Result of the stage carries
// them when they became known during it. It never holds a secret or a
// body.
type Observation struct {
	// Provider and Receiver name the receiver ("sivo", "default").
	Provider, Receiver string
	// Tenant is the account the delivery was addressed to (see
	// SecretSource), "" for a receiver with fixed secrets.
	Tenant string
	// DeliveryID is the vendor's delivery id; EventType the vendor's
	// event type as sent.
	DeliveryID, EventType string
	// Op is the store operation for StageStore: "reserve", "extend",
	// "commit" or "release".
	Op string
	// Attempt is the inbox job's attempt number (1 first) for StageJob.
	Attempt int
}

// Result is how a stage ended.
type Result struct {
	// Outcome classifies the end of the stage.
	Outcome Outcome
	// Status is the HTTP status answered, for StageDelivery (0 elsewhere).
	Status int
	// Reason is a short, fixed word for a refusal or failure, safe as a
	// metric attribute: "signature", "timestamp", "malformed",
	// "too_large", "method", "encoding", "read_timeout", "unknown_tenant",
	// "store", "inbox", "secret_source", "deadline", "panic", "error".
	Reason string
	// Err is the error, if any (never holding a secret).
	Err error
	// DeliveryID and EventType repeat the Observation's, filled in when
	// they became known during the stage.
	DeliveryID, EventType string
	// Duration is how long the stage took.
	Duration time.Duration
}

// Observer sees every stage of every delivery, for traces and metrics
// (webhook/otelcallcrm adapts it to OpenTelemetry). Receivers take one
// with WithObserver; inboxes take one too. Its methods are called on the
// delivery's goroutine and must be safe for concurrent use and fast. A
// panic in an Observer is recovered and logged; it never changes the
// answer. With no Observer set the engine does no observing work.
type Observer interface {
	// Start is called when a stage starts. It returns the context the
	// stage runs under (carrying a span, say) and a function the engine
	// calls exactly once when the stage ends.
	Start(ctx context.Context, stage Stage, o Observation) (context.Context, func(Result))
	// Inject returns the trace context of ctx to store with a delivery an
	// inbox keeps (W3C traceparent and tracestate), or nil.
	Inject(ctx context.Context) map[string]string
	// Extract returns ctx continuing the trace stored by Inject.
	Extract(ctx context.Context, carrier map[string]string) context.Context
}
