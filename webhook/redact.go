package webhook

import (
	"fmt"
	"io"
	"strconv"
)

// Verifiers, signers and stores print a summary, never key material: the
// HMAC pad states they hold are equivalent to the secret. Format covers
// every verb (%v, %+v, %#v, %s, %q, ...).

// String describes the verifier without its secrets.
func (v HMAC) String() string {
	return "webhook.HMAC{header: " + v.header + ", prefix: " + strconv.Quote(v.prefix) +
		", secrets: " + strconv.Itoa(len(v.keys)) + " [redacted]}"
}

// GoString is String, so %#v redacts too.
func (v HMAC) GoString() string { return v.String() }

// Format prints String for every verb.
func (v HMAC) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, v.String()) }

// String describes the verifier without its secrets.
func (v Standard) String() string {
	return "webhook.Standard{secrets: " + strconv.Itoa(len(v.keys)) + " [redacted], tolerance: " +
		v.tolerance.String() + ", skipTimestamp: " + strconv.FormatBool(v.skipTime) + "}"
}

// GoString is String, so %#v redacts too.
func (v Standard) GoString() string { return v.String() }

// Format prints String for every verb.
func (v Standard) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, v.String()) }

// String describes the signer without its secret.
func (s HMACSigner) String() string {
	return "webhook.HMACSigner{header: " + s.header + ", prefix: " + strconv.Quote(s.prefix) + ", secret: [redacted]}"
}

// GoString is String, so %#v redacts too.
func (s HMACSigner) GoString() string { return s.String() }

// Format prints String for every verb.
func (s HMACSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// String describes the signer without its secret.
func (s StandardSigner) String() string { return "webhook.StandardSigner{secret: [redacted]}" }

// GoString is String, so %#v redacts too.
func (s StandardSigner) GoString() string { return s.String() }

// Format prints String for every verb.
func (s StandardSigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// String describes the store without the delivery ids it holds.
func (m *MemoryDedupe) String() string { return "webhook.MemoryDedupe{[redacted]}" }

// GoString is String, so %#v redacts too.
func (m *MemoryDedupe) GoString() string { return m.String() }

// Format prints String for every verb.
func (m *MemoryDedupe) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// String describes the config without its values: an error hook or a
// logger may close over credentials.
func (c Config) String() string { return "webhook.Config{[redacted]}" }

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// GoString is String, so %#v does not print the settings (vendor
// extensions may hold credentials) or the verifier.
func (r *Receiver) GoString() string { return r.String() }

// Format prints String for every verb.
func (r *Receiver) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }
