package main

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

//go:embed samples/*.json
var samples embed.FS

// sample returns a documented sample, decoded with its key order kept.
func sample(name string) *object {
	b, err := samples.ReadFile("samples/" + name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	v, err := decodeOrdered(b)
	if err != nil {
		panic(fmt.Sprintf("samples/%s: %v", name, err))
	}
	return v.(*object)
}

// event is one event type a vendor documents.
type event struct {
	name string
	note string // what the body is built from, when it is not the documented sample itself
}

// vendor is everything trigger, sign and verify need to know about one
// vendor. Each vendor's facts live in its own file (vendor_*.go).
type vendor struct {
	name  string // on the command line: "siro"
	title string // in messages: "Siro"
	// scheme describes how the vendor signs, for -h and verify.
	scheme string
	// headers are the signature headers, for verify's "no signature
	// header" diagnosis.
	headers []string
	// retry says how the vendor resends a failed delivery (for -repeat).
	retry  string
	events []event
	// newID returns a fresh message id in the vendor's style.
	newID func() string
	// build returns the body of ev with message id (where the vendor puts
	// it in the body), at step of a sequence of total events sent at
	// now (step 0 of 1 for a single event).
	build func(ev, id string, step, total int, now time.Time) (*object, error)
	// sequence lists the related events the vendor emits before ev, in
	// emission order, ending with ev; nil when ev has none.
	sequence func(ev string) []string
	// sign returns every header the vendor sends with body.
	sign func(secret, id string, body []byte, now time.Time) (http.Header, error)
	// verifier returns the SDK's verifier for secret (tolerance applies to
	// vendors that sign a timestamp; skipTime turns its check off).
	verifier func(secret string, tolerance time.Duration, skipTime bool) (webhook.Verifier, error)
	// secretVariants returns other readings of a secret a user commonly
	// gets wrong (label -> secret), for verify's "wrong secret" diagnosis.
	secretVariants func(secret string) map[string]string
}

// vendors are the four vendors that send webhooks, by name.
var vendors = map[string]*vendor{
	siroVendor.name:     siroVendor,
	symboVendor.name:    symboVendor,
	callsyncVendor.name: callsyncVendor,
	sivoVendor.name:     sivoVendor,
}

func vendorNames() []string {
	names := make([]string, 0, len(vendors))
	for n := range vendors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookupVendor(name string) (*vendor, error) {
	v, ok := vendors[strings.ToLower(name)]
	if !ok {
		return nil, usageErrorf("unknown vendor %q (want one of %s)", name, strings.Join(vendorNames(), ", "))
	}
	return v, nil
}

func (v *vendor) hasEvent(name string) bool {
	for _, e := range v.events {
		if e.name == name {
			return true
		}
	}
	return false
}

func (v *vendor) eventNames() []string {
	out := make([]string, len(v.events))
	for i, e := range v.events {
		out[i] = e.name
	}
	return out
}

// randomID returns prefix + n random characters of a ULID-like alphabet.
func randomID(prefix string, n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

// randomUUID returns a random version 4 UUID.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// isoMillis formats t the way the vendors' samples do
// ("2026-05-20T10:23:45.123Z").
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// prefixSequence is the sequence of events in order up to and including ev
// (nil when ev is not in order).
func prefixSequence(order []string, ev string) []string {
	for i, e := range order {
		if e == ev {
			return append([]string(nil), order[:i+1]...)
		}
	}
	return nil
}

// bodySigner signs a body alone with a vendor test package's sender (the
// HMAC vendors: no id or timestamp is signed).
func bodySigner(newSender func(secret string) (*webhooktest.Sender, error)) func(secret, id string, body []byte, now time.Time) (http.Header, error) {
	return func(secret, _ string, body []byte, _ time.Time) (http.Header, error) {
		s, err := newSender(secret)
		if err != nil {
			return nil, err
		}
		return s.Sign(body), nil
	}
}

// hmacVerifier verifies an HMAC vendor's header (no timestamp, so the
// tolerance and the skip flag do not apply).
func hmacVerifier(header, prefix string) func(secret string, tolerance time.Duration, skipTime bool) (webhook.Verifier, error) {
	return func(secret string, _ time.Duration, _ bool) (webhook.Verifier, error) {
		return webhook.NewHMAC(header, prefix, secret)
	}
}

// hmacSecretVariants are the readings of an HMAC vendor's secret users
// commonly get wrong: surrounding white space from a copy and paste, and
// a Standard Webhooks style "whsec_" secret (its text, or its decoded key).
func hmacSecretVariants(secret string) map[string]string {
	out := map[string]string{}
	if t := strings.TrimSpace(secret); t != secret && t != "" {
		out["with its surrounding white space removed"] = t
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok && rest != "" {
		out["without its whsec_ prefix"] = rest
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && len(key) > 0 {
			out["base64-decoded (the key bytes after whsec_)"] = string(key)
		}
	}
	return out
}
