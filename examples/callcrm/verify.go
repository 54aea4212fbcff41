package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

const verifyHelp = `Says whether a captured delivery verifies with -secret, as VENDOR signs, and
when it does not, why. Input is a raw HTTP request on stdin, exactly as captured
(request line, headers, blank line, body), or -header flags and -body FILE.

Causes it names (first word after "NOT VERIFIED:"):
  no signature header          the vendor's signature header is absent
  wrong scheme                 the header is there but not in the vendor's format
  timestamp outside the tolerance  (Siro) signed too long ago or in the future
  body changed                 the signature matches the body after a common change
                               (trailing newline, CRLF/LF, JSON re-encoding): something
                               altered the raw body before verification
  wrong secret                 the signature is well formed and matches neither the body
                               nor any common change of it: almost always another secret
                               (an HMAC over a body changed in another way looks the same;
                               this tool says so rather than guess)
The secret is never printed.`

func cmdVerify(args []string, e *env) error {
	fs := newFlags(e, "verify VENDOR -secret S [< request.txt | -header 'K: V' ... -body FILE]", verifyHelp)
	secretArg := fs.String("secret", "", "the signing secret to check with (default $CALLCRM_SECRET)")
	var headers multiFlag
	fs.Var(&headers, "header", "a request header 'Name: value' (repeatable; instead of a raw request on stdin)")
	bodyFile := fs.String("body", "", "file holding the exact body (with -header)")
	tolerance := fs.Duration("tolerance", webhook.DefaultTolerance, "timestamp tolerance (Siro)")
	v, secret, err := vendorAndSecret(e, "verify", fs, args, secretArg)
	if err != nil {
		return err
	}
	var h http.Header
	var body []byte
	if len(headers) > 0 || *bodyFile != "" {
		h = http.Header{}
		for _, kv := range headers {
			k, val, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return usageErrorf("-header %q: want 'Name: value'", kv)
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(val))
		}
		if *bodyFile != "" {
			if body, err = os.ReadFile(*bodyFile); err != nil {
				return &ioError{err}
			}
		}
	} else {
		if isTerminal(e.stdin) {
			return usageErrorf("pipe a captured request on stdin (callcrm verify %s -secret S < request.txt), or give -header and -body", v.name)
		}
		if h, body, err = readRequest(e.stdin); err != nil {
			return err
		}
	}
	ok, err := diagnose(e.stdout, v, secret, *tolerance, h, body)
	if err != nil {
		return err
	}
	if !ok {
		return errRejected
	}
	return nil
}

// readRequest parses a raw HTTP request as captured. A request without
// Content-Length or chunked encoding (hand-written) takes the rest of
// the input as its body.
func readRequest(r io.Reader) (http.Header, []byte, error) {
	br := bufio.NewReader(r)
	req, err := http.ReadRequest(br)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, usageErrorf("stdin holds no HTTP request (want the request line, headers, a blank line and the body; or use -header and -body)")
		}
		return nil, nil, usageErrorf("stdin is not a raw HTTP request: %v", err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, nil, &ioError{fmt.Errorf("reading the body: %w", err)}
	}
	if req.Header.Get("Content-Length") == "" && len(req.TransferEncoding) == 0 {
		rest, err := io.ReadAll(br)
		if err != nil {
			return nil, nil, &ioError{err}
		}
		body = append(body, rest...)
	}
	return req.Header, body, nil
}

// diagnose prints VERIFIED or NOT VERIFIED with the cause.
func diagnose(w io.Writer, v *vendor, secret string, tolerance time.Duration, h http.Header, body []byte) (bool, error) {
	ver, err := v.verifier(secret, tolerance, false)
	if err != nil {
		trimmed := strings.TrimSpace(secret)
		if trimmed == secret || trimmed == "" {
			return false, usageErrorf("-secret is not a valid %s secret: %v", v.title, err)
		}
		// A secret pasted with a newline or a space: the SDK refuses it;
		// say whether the rest of it is the right one.
		if ver, err = v.verifier(trimmed, tolerance, false); err != nil {
			return false, usageErrorf("-secret is not a valid %s secret: %v", v.title, err)
		}
		if _, err := ver.Verify(h, body); err == nil {
			fmt.Fprintf(w, "NOT VERIFIED: wrong secret: the signature matches the given secret with its surrounding white space removed (the SDK refuses a secret with surrounding white space)\n")
			return false, nil
		}
		fmt.Fprintf(w, "note: the given secret has surrounding white space; checking with it removed\n")
		secret = trimmed
	}
	d, err := ver.Verify(h, body)
	if err == nil {
		fmt.Fprintf(w, "VERIFIED: %s signature matches (%d-byte body", v.title, len(body))
		if d.ID != "" {
			fmt.Fprintf(w, ", id %s, signed %s", d.ID, d.Timestamp.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(w, ")")
		return true, nil
	}
	fail := func(cause, format string, args ...any) {
		fmt.Fprintf(w, "NOT VERIFIED: %s: %s\n", cause, fmt.Sprintf(format, args...))
	}
	switch {
	case errors.Is(err, webhook.ErrMissingHeader):
		msg := fmt.Sprintf("%s signs in %s (%v)", v.title, strings.Join(v.headers, " or "), err)
		if other := otherVendorHeaders(v, h); other != "" {
			msg += "; the request carries " + other + ": is it from another vendor?"
		}
		fail("no signature header", "%s", msg)
	case errors.Is(err, webhook.ErrTimestampTooOld), errors.Is(err, webhook.ErrTimestampTooNew):
		msg := fmt.Sprintf("%v", err)
		if lax, lerr := v.verifier(secret, tolerance, true); lerr == nil {
			if _, err := lax.Verify(h, body); err == nil {
				msg += "; the signature itself matches (a replayed or delayed delivery, or a clock off)"
			} else {
				msg += "; the signature does not match either"
			}
		}
		fail("timestamp outside the tolerance", "%s", msg)
	case errors.Is(err, webhook.ErrMalformed):
		fail("wrong scheme", "%v; %s expects %s%s", err, v.title, v.scheme, schemeHint(v, h))
	case errors.Is(err, webhook.ErrNoMatchingSignature):
		for _, m := range bodyMutations(body) {
			if _, err := ver.Verify(h, m.body); err == nil {
				fail("body changed", "the signature matches the body %s: something between %s and this capture altered the raw body; verify the exact bytes received", m.label, v.title)
				return false, nil
			}
		}
		for label, s := range v.secretVariants(secret) {
			if alt, err := v.verifier(s, tolerance, false); err == nil {
				if _, err := alt.Verify(h, body); err == nil {
					fail("wrong secret", "the signature matches the given secret %s", label)
					return false, nil
				}
			}
		}
		fail("wrong secret", "the signature is well formed but was made with another secret, or over a body changed in a way none of the %d common changes undoes (for an HMAC the two cannot be told apart)", len(bodyMutations(body)))
	default:
		fail("rejected", "%v", err)
	}
	return false, nil
}

// otherVendorHeaders names signature headers of the other vendors present
// in h.
func otherVendorHeaders(v *vendor, h http.Header) string {
	var out []string
	for _, name := range vendorNames() {
		o := vendors[name]
		if o == v {
			continue
		}
		for _, k := range o.headers {
			if h.Get(k) != "" {
				out = append(out, fmt.Sprintf("%s (%s's)", k, o.title))
			}
		}
	}
	return strings.Join(out, ", ")
}

// schemeHint explains common format mix-ups of a signature header.
func schemeHint(v *vendor, h http.Header) string {
	for _, k := range v.headers {
		val := strings.TrimSpace(h.Get(k))
		if val == "" {
			continue
		}
		switch {
		case v == sivoVendor && isHex64(val):
			return " (the value is bare hex: the sha256= prefix is missing)"
		case v != sivoVendor && v != siroVendor && strings.HasPrefix(strings.ToLower(val), "sha256="):
			return " (the value has a sha256= prefix, which " + v.title + " does not send)"
		case v != siroVendor && strings.HasPrefix(val, "v1,"):
			return " (the value is a Svix/Standard Webhooks signature)"
		case v == siroVendor && isHex64(val):
			return " (the value is hex, as the HMAC vendors send; Svix sends v1,<base64>)"
		}
	}
	return ""
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

type mutation struct {
	label string
	body  []byte
}

// bodyMutations are the changes frameworks, editors and capture tools
// commonly make to a raw body; the label says what to do to the given
// body to get the one that was signed.
func bodyMutations(b []byte) []mutation {
	var out []mutation
	add := func(label string, m []byte) {
		if !bytes.Equal(m, b) {
			out = append(out, mutation{label, m})
		}
	}
	switch {
	case bytes.HasSuffix(b, []byte("\r\n")):
		add("with its trailing CRLF removed", b[:len(b)-2])
	case bytes.HasSuffix(b, []byte("\n")):
		add("with its trailing newline removed", b[:len(b)-1])
	}
	add("with its surrounding white space removed", bytes.TrimSpace(b))
	add("with a trailing newline added", append(append([]byte(nil), b...), '\n'))
	if bytes.Contains(b, []byte("\r\n")) {
		add("with CRLF line endings turned into LF", bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
	} else if bytes.Contains(b, []byte("\n")) {
		add("with LF line endings turned into CRLF", bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
	}
	if json.Valid(b) {
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			add("re-encoded as compact JSON", c.Bytes())
		}
		for _, indent := range []string{"  ", "    ", "\t"} {
			var ib bytes.Buffer
			if json.Indent(&ib, b, "", indent) == nil {
				add(fmt.Sprintf("re-indented as JSON (%q)", indent), ib.Bytes())
			}
		}
		var anyv any
		if json.Unmarshal(b, &anyv) == nil {
			if sorted, err := marshal(anyv); err == nil {
				add("re-encoded as JSON with its keys sorted", sorted)
			}
		}
	}
	return out
}

// isTerminal reports whether r is an interactive terminal (nothing piped).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
