// Package callsync receives CallSync's webhooks in a CRM backend
// (call_logged, recording_updated, ai_analysis, caller_updated): it
// verifies their X-CallSync-Signature (hex HMAC-SHA256 of the raw body),
// deduplicates them and routes each event to its own callback.
//
//	h, err := callsync.NewHandler([]string{os.Getenv("CALLSYNC_SECRET")}, callsync.Callbacks{
//		CallLogged: func(ctx context.Context, ev *callsync.Event) error {
//			return crm.LogCall(ctx, ev.OrgID, ev.Data)
//		},
//	})
//	if err != nil {
//		return err
//	}
//	defer h.Shutdown(context.Background())
//	http.Handle("/webhooks/callsync", h)
//
// CallSync is loose with types: call_id arrives as a number and
// duration_total as a string. Both decode into package webhook's lenient
// types (webhook.ID, webhook.Int) whichever form is sent; anything else is
// a clear decode error. Fields CallSync does not document (the AI analysis
// beyond status) stay available as raw JSON. Options and answers are
// package webhook's; constructor errors read "callsync: <constructor>:
// <problem>". Package callsynctest signs and delivers events as CallSync
// does.
package callsync
