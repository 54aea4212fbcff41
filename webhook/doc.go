// Package webhook is the one receive engine every vendor package in
// callcrm-go uses: it reads, verifies, deduplicates, runs or enqueues,
// answers and logs webhook deliveries, and it signs them for tests and
// senders. It knows signatures and delivery semantics and nothing about
// any vendor: a vendor package (siro, symbo, callsync, sivo) gives a Spec
// with its facts and gets a Receiver.
//
//	r, err := webhook.NewReceiver(webhook.Spec{
//		Provider: "acme",
//		Verifier: verifier, // webhook.NewHMAC(...) or webhook.NewStandard(...)
//		Parse: func(ev *webhook.Event) (any, error) {
//			ev.ID, ev.Type = ev.Header.Get("X-Acme-Id"), "acme.event"
//			return nil, nil
//		},
//		Handle: func(ctx context.Context, ev *webhook.Event, _ any, _ webhook.Once) error { return process(ctx, ev.Raw) },
//	}, webhook.WithDedupe(store))
//	// Vendor packages build this for you:
//	// sivo.NewHandler(secrets, callbacks, webhook.WithDedupe(store)).
//
// # The contract
//
// A delivery is read bounded (413) and timed (408), gzip decoded (415 for
// other encodings), verified before anything parses it (400 malformed, 401
// bad signature or stale), parsed (400) and reserved in a Deduper under the
// key provider/name/id (200 if already processed, 409 if in progress, 503
// if the store is down or slow). Its callback runs under a deadline (504 at
// the deadline even if the callback ignores its context); the key is
// committed only when the callback returned nil, released on an error or a
// panic (500), renewed while the callback runs past its deadline, and a
// failed commit is retried until it lands. With WithInbox the delivery is
// handed to an Inbox instead and answered 2xx once the inbox took it
// (MemoryInbox in process; webhook/riverinbox durably on PostgreSQL).
// webhooktest.Conformance checks the whole contract against any receiver.
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
