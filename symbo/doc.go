// Package symbo connects a CRM to Symbo's dialer: the contact lookup Symbo
// calls when a rep dials (NewLookupHandler), and Symbo's call activity
// webhooks signed with X-Hmac-Signature (NewWebhookHandler).
//
// Symbo's documentation spells event names two ways: the CRM article's
// sample has description "call.created", the newer webhooks guide lists
// "call:created", "call:completed", "call:updated",
// "call:recording-completed" and "prospect:created". Both spellings reach
// the same callback (NormalizeEvent).
package symbo
