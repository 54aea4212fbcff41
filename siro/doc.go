// Package siro is a client for Siro's two APIs: the org API on
// https://functions.siro.ai/api-externalApi (Authorization: Bearer <org
// token>) and the user API on https://api.siro.ai (x-siro-auth-token: <OAuth
// access token>).
//
// This first part covers the client, both credentials (including a token
// source that mints user tokens through the org API and refreshes them),
// and syncing engagements and opportunities, one at a time or in batches.
// The rest of the operations in siro-api.md's scope table are not typed
// yet; use Client.Do for them.
package siro
