// Package callsync receives CallSync's webhooks (call_logged,
// recording_updated, ai_analysis, caller_updated), verifies their
// X-CallSync-Signature (hex HMAC-SHA256 of the raw body), deduplicates them
// by payload_id and routes each event to its own callback.
//
// CallSync is loose with types: call_id arrives as a number and
// duration_total as a string. Both decode into the same Go types
// (ID and Int) whichever form is sent; anything else is a clear decode
// error. Fields CallSync does not document (the AI analysis beyond status)
// stay available as raw JSON.
package callsync
