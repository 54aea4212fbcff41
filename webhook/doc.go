// Package webhook is the one receive engine every vendor package in
// callcrm-go uses: it reads, verifies, deduplicates, runs or enqueues,
// answers and logs webhook deliveries, and it signs them for tests and
// senders. It knows signatures and delivery semantics and nothing about
// any vendor: a vendor package (siro, symbo, callsync, sivo) gives a Spec
// with its facts and gets a Receiver.
//
//	r, err := webhook.NewReceiver(webhook.Spec[*acmeEvent]{
//		Provider: "acme",
//		Verifier: verifier, // webhook.NewHMAC(...) or webhook.NewStandard(...)
//		Parse: func(ev *webhook.Event) (*acmeEvent, error) {
//			var a acmeEvent
//			if err := ev.Decode(&a); err != nil {
//				return nil, err
//			}
//			ev.ID, ev.Type = a.ID, a.Type
//			return &a, nil
//		},
//		Handle: func(ctx context.Context, _ *webhook.Event, a *acmeEvent, _ webhook.Once) error { return process(ctx, a) },
//	}, webhook.WithDedupe(store))
//	// Vendor packages build this for you:
//	// sivo.NewHandler(secrets, callbacks, webhook.WithDedupe(store)).
//
// # The contract
//
// A delivery is read bounded (413) and timed (408), gzip decoded (415 for
// other encodings), verified before anything parses it (400 malformed, 401
// bad signature or stale; with a SecretSource, 404 unknown tenant and 503
// when the source fails), parsed (400) and reserved in a Deduper under
// the key provider/name/d:id (provider/name/t:tenant/d:id with a source;
// second keys of Once under o: instead, where no delivery id can reach):
// 200 if already processed, 409 if in progress, 503 if the store is down
// or slow. Its callback runs on its own goroutine under
// context.WithTimeout while the request waits for whichever comes first,
// like net/http's TimeoutHandler: the callback's return or the deadline
// (504 at the deadline even if the callback ignores its context). The key
// is committed only when the callback returned nil, released on an error
// or a panic (500), renewed while the callback runs past its deadline,
// and a failed commit is retried until it lands. With WithInbox the
// delivery is handed to an Inbox instead and answered 2xx once the inbox
// took it (MemoryInbox in process; webhook/riverinbox durably on
// PostgreSQL). webhooktest.Conformance checks the whole contract against
// any receiver.
//
// # One pipeline
//
// ServeHTTP and Wrap (Middleware) run the same pipeline: read, verify,
// parse, reserve, then the callback, the wrapped handler or the enqueue.
// Each request ends in exactly one Outcome, decided in one place
// (classify) and reported in one place (settle): the Stats counter, the
// log line, the error hook, the Observer's delivery stage and the answer.
// Deadlines use real timers; test them with testing/synctest. WithClock
// remains for what reads "now" against a store or a signature: timestamp
// windows, the in-memory store's leases, lease renewal and commit retries.
//
// # Secrets that change
//
// WithSecretSource resolves a tenant's secrets per delivery (SecretSource,
// SecretsFunc), the tenant coming only from what the user configured
// (TenantFromPath, FixedTenant). The vendor's Spec.NewVerifier builds the
// verifier, cached per tenant and keyed hash of the secret list, so a
// rotation takes effect at the next delivery and a removed secret stops
// verifying at once.
//
// # Observing
//
// WithObserver and WithInboxObserver hand every stage (Stage) to an
// Observer; Event.Trace carries the request's trace context through an
// inbox. Without an Observer the engine does no observing work.
//
// # Verification
//
// Two schemes are supported:
//
//   - HMAC-SHA256 over the raw body, hex encoded in a named header, with or
//     without a prefix such as "sha256=" (NewHMAC).
//   - Standard Webhooks, which Svix implements: HMAC-SHA256 over
//     "id.timestamp.body", a space-separated list of "v1,<base64>"
//     signatures and "whsec_" secrets (NewStandard).
//
// A Verifier checks one delivery (Verify(header, body)) so it can be used
// from any framework; Middleware runs the engine's read, verify and dedupe
// steps in front of your own http.Handler. Verification is streamed: the
// MAC is computed over the id, the timestamp as received and the body
// without building a copy of the payload, with the key schedule
// precomputed at construction, and allocates nothing. See the package
// benchmarks.
//
// # Payload types
//
// Int, Float, ID and Time decode the looseness the vendors share (numbers
// sent as strings, timestamps without a zone or with typos) and keep the raw
// text of values that do not parse; they live here, in the package every
// receiver shares, so a field of the same meaning has the same type in
// every vendor package.
package webhook
