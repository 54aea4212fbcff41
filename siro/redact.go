package siro

import (
	"fmt"
	"io"
)

// Secret-holding types print their String for every verb, %#v included.

// GoString is String, so %#v redacts too.
func (t AccessToken) GoString() string { return t.String() }

// Format prints String for every verb.
func (t AccessToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// GoString is String, so %#v redacts too.
func (a NewOAuthApp) GoString() string { return a.String() }

// Format prints String for every verb.
func (a NewOAuthApp) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// String never prints the client secret.
func (p CreateAccessTokenParams) String() string {
	return "CreateAccessTokenParams{userId: " + p.UserID + ", scope: " + string(p.Scope) + ", clientSecret: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (p CreateAccessTokenParams) GoString() string { return p.String() }

// Format prints String for every verb.
func (p CreateAccessTokenParams) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// String never prints the refresh token.
func (p SalesforceParams) String() string {
	return "SalesforceParams{namespace: " + p.Namespace + ", org_id: " + p.OrgID + ", instance_url: " + p.InstanceURL +
		", username: " + p.Username + ", refresh_token: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (p SalesforceParams) GoString() string { return p.String() }

// Format prints String for every verb.
func (p SalesforceParams) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// String names the hosts, never the credentials.
func (c *Client) String() string {
	return "siro.Client{org: " + c.org.BaseURL() + ", user: " + c.user.BaseURL() + ", credentials: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
