// Package sivo receives SIVO contact-centre webhooks: it verifies the
// X-Sivo-Signature (sha256=<hex> HMAC-SHA256 of the raw body), checks the
// X-Sivo-Event-Type header against the body, processes each X-Sivo-Event-Id
// once even when SIVO redelivers it concurrently or hours later, and routes
// each event type to its own callback.
//
// SIVO documents the envelope (id, type, createdAt, tenantId, data) and the
// fields of call.ended only. Other events are given their type and keep
// data as raw JSON: decode it into your own struct with Event.DecodeData.
//
// Delivery is synchronous by default: SIVO gets 200 only after your
// callback returned nil, and 500 otherwise so it retries. That is the
// no-loss choice. WithAsync answers 200 once the event is queued in memory,
// as SIVO's "return 200 ASAP" advice suggests; events still queued are lost
// if the process dies.
package sivo
