// Package symbo connects a CRM backend to Symbo's dialer: the contact
// lookup Symbo calls when a rep dials (NewLookupHandler), and Symbo's call
// activity webhooks signed with X-Hmac-Signature (NewHandler).
//
//	lookup, err := symbo.NewLookupHandler([]string{secret}, func(ctx context.Context, number string) (*symbo.Contact, error) {
//		return crm.ContactByPhone(ctx, number) // nil or symbo.ErrNoContact answers 404
//	})
//	if err != nil {
//		return err
//	}
//	calls, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{
//		CallCompleted: func(ctx context.Context, ev *symbo.CallEvent) error { return crm.LogCall(ctx, ev) },
//	})
//	if err != nil {
//		return err
//	}
//	http.Handle("/symbo/lookup", lookup)
//	http.Handle("/webhooks/symbo", calls)
//
// The lookup is strict by default: with the webhook secrets it accepts
// only an X-Hmac-Signature over the request's query string, which binds
// the signature to the number dialled. Symbo does not document what it
// signs on a GET; an HMAC over the empty body would be one fixed value
// for every lookup (a token that unlocks every contact and can be
// replayed), so it is refused with 401 and a log line naming the opt-in,
// InsecureAcceptEmptyBodySignature. WithLookupToken is the alternative
// for an account that signs no lookups.
//
// Symbo's documentation spells event names two ways: the CRM article's
// sample has description "call.created", the newer webhooks guide lists
// "call:created", "call:completed", "call:updated",
// "call:recording-completed" and "prospect:created". Both spellings reach
// the same callback (NormalizeEvent). Options and answers are package
// webhook's; constructor errors read "symbo: <constructor>: <problem>".
// Package symbotest signs and delivers events, and dials your lookup, as
// Symbo does.
package symbo
