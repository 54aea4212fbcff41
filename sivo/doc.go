// Package sivo receives SIVO contact-centre webhooks in a CRM backend: it
// verifies the X-Sivo-Signature (sha256=<hex> HMAC-SHA256 of the raw body),
// checks the X-Sivo-Event-Type header against the body, processes each
// X-Sivo-Event-Id once even when SIVO redelivers it concurrently or hours
// later, and routes each event type to its own callback.
//
//	h, err := sivo.NewHandler([]string{os.Getenv("SIVO_WEBHOOK_SECRET")}, sivo.Callbacks{
//		CallEnded: func(ctx context.Context, ev *sivo.Event, call *sivo.CallEnded) error {
//			return crm.LogCall(ctx, call.CallID, call.From, call.To)
//		},
//	})
//	if err != nil {
//		return err
//	}
//	defer h.Shutdown(context.Background())
//	http.Handle("/webhooks/sivo", h)
//
// SIVO documents the envelope (id, type, createdAt, tenantId, data) and the
// fields of call.ended only. Other events are given their type and keep
// data as raw JSON: decode it into your own struct with Event.DecodeData.
//
// Delivery is synchronous by default: SIVO gets 200 only after your
// callback returned nil, and 500 otherwise so it retries. That is the
// no-loss choice. webhook.WithInbox answers 200 once the event is queued
// in an inbox (package webhook's MemoryInbox, or a durable one), as
// SIVO's "return 200 ASAP" advice suggests. Options and answers are
// package webhook's; constructor errors read "sivo: <constructor>:
// <problem>". Package sivotest signs, delivers and replays events as SIVO
// does.
package sivo
