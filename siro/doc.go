// Package siro connects a CRM backend to Siro, the field-sales recording
// platform: it syncs your appointments (engagements) and deals
// (opportunities) into Siro so recordings land on the right record, reads
// recordings, transcripts and summaries back, and receives Siro's
// Svix-signed recording webhooks.
//
//	c, err := siro.NewClient(siro.WithOrgToken(os.Getenv("SIRO_ORG_TOKEN")))
//	if err != nil {
//		return err
//	}
//	eng, err := c.SyncEngagement(ctx, &siro.SyncEngagement{
//		ExternalID: "appt-456", Subject: "Kitchen consultation",
//		StartTime:  siro.At(start), EndTime: siro.At(start.Add(time.Hour)),
//	})
//	var se *siro.Error
//	if errors.As(err, &se) {
//		log.Printf("%s %s: %d %s (request %s)", se.Method, se.Route, se.StatusCode, se.Message, se.RequestID)
//	}
//
// Siro has two hosts. The org API (https://functions.siro.ai/api-externalApi,
// Authorization: Bearer <org token>) holds sync, engagements,
// opportunities, accounts, CRM users, recordings, connections and OAuth
// apps; give WithOrgToken. The user API (https://api.siro.ai,
// x-siro-auth-token: <OAuth access token>) holds recording details,
// transcripts, entity extractions and CRM links; give WithUserToken, your
// own WithUserTokenSource, or WithOAuthApp, which mints and refreshes user
// tokens through the org API. A call whose credential was not given fails
// before any request with ErrMissingCredential. Every operation Siro's
// public reference documents for those areas is a typed method; Client.Do
// reaches anything else.
//
// Conventions: params are pointers and nil means Siro's defaults; lists
// come as one Page (with a Cursor to pass back in the params' Cursor
// field) or as an iterator (All...) that fetches pages as you range;
// timestamps are webhook.Time (At(t) for optional ones), both ways;
// deletes return an error only (Siro's answer false is an error matching
// ErrNotDeleted) except DeleteConnection, which returns the deleted
// connection; optional fields take Ptr(v).
//
// Errors are this package's types: *Error for an answer Siro refused
// (status, code, message, 422 Issues, request id), *DecodeError for an
// answer that did not decode, *RequestError for a transport failure; the
// status sentinels (ErrNotFound, ErrRateLimited, ...) match with errors.Is.
// They live here, and their twins in package engrami, because an error
// describes a vendor's answer and the two vendor packages never import each
// other; the HTTP layer they share is internal. Retries follow
// DefaultRetry (WithRetry, WithMaxRetries); constructor errors read
// "siro: <option>: <problem>" and match ErrInvalidOption.
//
// NewHandler receives Siro's webhooks through package webhook's receiver:
// Callbacks.Ready runs once per recording when it is both processed and
// linked to a CRM record; Callbacks.FetchDetails adds the summary and
// extractions. Package sirotest is an in-memory Siro for tests.
package siro
