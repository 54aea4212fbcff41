// Package webhook verifies, deduplicates, dispatches and signs webhook
// deliveries. Every provider package in callcrm-go builds on it; it knows
// signatures and HTTP and nothing about any vendor.
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
//	// Vendor packages (siro, symbo, callsync, sivo) build this for you:
//	// sivo.NewHandler(secrets, callbacks, opts...).
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
// from any framework; Middleware wraps an http.Handler, bounds and keeps the
// raw body, verifies before anything parses it, and answers with a generic
// status when verification fails. Dedupers implement reserve / commit /
// release so a failed handler lets the sender's retry through.
//
// Verification is streamed: the MAC is computed over the id, the timestamp
// as received and the body without building a copy of the payload, with the
// key schedule precomputed at construction. See the package benchmarks.
package webhook
