// Package engrami connects a CRM backend to Engrami, the voice-agent
// platform: a client for its REST API (incoming webhooks, custom tools,
// OAuth providers, outgoing actions, secrets), a signed sender for the
// incoming webhooks it creates, a handler for the tool endpoints Engrami
// calls in your CRM, and offline previews of templates and JSONPath
// mappings so you can unit-test an Engrami configuration.
//
//	c, err := engrami.NewClient(engrami.WithToken(os.Getenv("ENGRAMI_TOKEN")))
//	if err != nil {
//		return err
//	}
//	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "crm-leads", AgentID: "agent_1"})
//	if err != nil {
//		return err
//	}
//	s, err := engrami.NewSender(hook.URL, hook.Secret)
//	err = s.Send(ctx, map[string]any{"lead_id": "L-42", "phone": "+18005551212"})
//
// The credential is an option, WithToken (an API key or JWT), as in
// package siro. Engrami's pages disagree on the base path (/api/v1 on every
// endpoint page, /v1 on the overview); DefaultBaseURL uses /api/v1 and
// WithBaseURL changes it. Answers are accepted wrapped in
// {"success", "data"} or bare; {"success": false} is an *Error.
//
// Errors are this package's types: *Error for an answer Engrami refused
// (status, code, message, details, request id), *DecodeError and
// *RequestError; the status sentinels (ErrNotFound, ErrRateLimited, ...)
// match with errors.Is. They are declared here, with the same names and
// shapes as package siro's, because an error describes one vendor's answer
// and vendor packages never import each other; the HTTP layer they share
// is internal. Retries follow DefaultRetry (WithRetry, WithMaxRetries), a
// 429 waiting until X-RateLimit-Reset; constructor errors read
// "engrami: <option>: <problem>" and match ErrInvalidOption. Package
// engramitest is a fake Engrami API for tests.
package engrami
