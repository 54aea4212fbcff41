package engrami

import (
	"fmt"
	"io"
)

// Secret-holding types print their String for every verb, %#v included.

// GoString is String, so %#v redacts too.
func (w IncomingWebhook) GoString() string { return w.String() }

// Format prints String for every verb.
func (w IncomingWebhook) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, w.String()) }

// GoString is String, so %#v redacts too.
func (p OAuthProvider) GoString() string { return p.String() }

// Format prints String for every verb.
func (p OAuthProvider) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// String names the API root, never the token.
func (c *Client) String() string {
	return "engrami.Client{" + c.core.BaseURL() + ", token: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// String names the webhook, never the signing secret.
func (s *Sender) String() string {
	return "engrami.Sender{" + s.core.BaseURL() + s.path + ", secret: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (s *Sender) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *Sender) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
