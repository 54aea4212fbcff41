// Package engrami is a client for Engrami's REST API (incoming webhooks,
// custom tools, OAuth providers, outgoing actions, secrets), a signed
// sender for the incoming webhooks it creates, a handler for the tool
// endpoints Engrami calls in your CRM, and offline previews of templates
// and JSONPath mappings so you can unit-test an Engrami configuration.
//
// Engrami's pages disagree on the base path (/api/v1 on every endpoint
// page, /v1 on the overview); DefaultBaseURL uses /api/v1 and WithBaseURL
// changes it. Responses are accepted wrapped in {"success", "data"} or bare.
package engrami
