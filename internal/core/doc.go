// Package core is the one HTTP path every vendor client in callcrm-go goes
// through: configuration validated at construction, authentication,
// path and query building, JSON bodies that can be replayed, retries with
// backoff that respect the context, typed API errors, redacted debug logging
// and pagination as iterators.
//
// It knows HTTP and nothing about any vendor. Vendor packages describe their
// error shapes through Config.DecodeError and re-export APIError and the
// sentinels with type aliases.
package core

// Version is the SDK version sent in the User-Agent header.
const Version = "0.1.0"

// UserAgent is the default User-Agent header value.
const UserAgent = "callcrm-go/" + Version
