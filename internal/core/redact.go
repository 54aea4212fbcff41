package core

// Redaction: what an error, a log line or a refusal may show of a body, a
// URL or a secret. Known secrets (the credential, a request's Secrets)
// are replaced wherever they appear; credential-named JSON fields are
// replaced whatever their value; a cut never keeps the start of either.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// RedactHeader returns a copy of h with credentials and signatures replaced
// by "[redacted]": Authorization, Proxy-Authorization, Cookie, Set-Cookie,
// x-siro-auth-token, any *-Token, *-Secret, *-Signature and *-Api-Key header.
func RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if SensitiveHeader(k) {
			out[k] = []string{"[redacted]"}
			continue
		}
		out[k] = v
	}
	return out
}

// SensitiveHeader reports whether a header carries a secret.
func SensitiveHeader(name string) bool {
	k := strings.ToLower(name)
	switch k {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-siro-auth-token", "x-api-key", "api-key":
		return true
	}
	return strings.HasSuffix(k, "-signature") || strings.HasSuffix(k, "-token") ||
		strings.HasSuffix(k, "-secret") || strings.HasSuffix(k, "-api-key") || strings.HasSuffix(k, "-auth")
}

// describeURL returns raw with its user info, query and fragment replaced
// by "[redacted]", and the parts it hid (to scrub them from a parser's
// message too). It works on the text, so an unparsable URL is shown too;
// user info runs to the last '@' (a path holding one is hidden with it),
// and the tail of a host after a ':' that is not a port number is hidden
// as well ("https://user:secret" without the "@host").
func describeURL(raw string) (shown string, hidden []string) {
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 && i+1 < len(s) {
		hidden = append(hidden, s[i+1:])
		s = s[:i+1] + "[redacted]"
	}
	start := 0
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	end := len(s)
	if i := strings.IndexAny(s[start:], "/?#"); i >= 0 {
		end = start + i
	}
	authority := s[start:end]
	if strings.IndexByte(authority, '@') < 0 {
		if c := strings.LastIndexByte(authority, ':'); c >= 0 && strings.Trim(authority[c+1:], "0123456789") != "" &&
			!strings.HasSuffix(authority, "]") {
			hidden = append(hidden, authority[c+1:])
			authority = authority[:c+1] + "[redacted]"
		}
	}
	if at := strings.LastIndexByte(s[start:], '@'); at >= 0 {
		// User info ends at the last '@', even past a '/': url.Parse ends
		// the authority at the first '/', so a password holding one (or
		// a scheme with one slash too few) would otherwise show its rest.
		if at > 0 {
			hidden = append(hidden, s[start:start+at])
		}
		return s[:start] + "[redacted]" + s[start+at:], hidden
	}
	return s[:start] + authority + s[end:], hidden
}

// decodeErrorBody is the start of a 2xx body kept in a DecodeError: the
// request's secrets and the values of credential fields (a token the
// answer minted, which no caller could name in advance) are redacted
// before it is cut to 512 bytes, so the cut never leaves part of one.
func decodeErrorBody(body []byte, secrets []string) []byte {
	window := body[:min(len(body), 16<<10)] // bounds the work on a huge body
	// The secrets once more after: an embedded document encoded again
	// loses the escapes ("\/", "\u002B") its encoder wrote in them.
	return capBytes(redactSecrets(redactCredentialFields(redactSecrets(window, secrets)), secrets), 512)
}

// redactCredentialFields replaces the string value of every JSON member
// whose key names a credential (see credentialKey) with "[redacted]", and
// when such a member holds an array or an object ("tokens": [...]), every
// string in it but the values of keys that name no secret (an id, a type,
// see safeKey). Keys are compared unescaped ("access\u0054oken" is
// accessToken). It scans tokens, not a parse tree, so a body that is not
// valid JSON, or is cut short (a value running to the end is redacted to
// the end), is handled too. A string value that is itself a JSON object
// or array (an echoed upstream body) is redacted inside, to a depth of
// three. The result is a new slice.
func redactCredentialFields(b []byte) []byte {
	return redactMembers(make([]byte, 0, len(b)), b, false, 0)
}

// maxEmbeddedDepth bounds how deep redaction follows JSON documents
// carried as string values.
const maxEmbeddedDepth = 3

// redactMembers appends b to out with credential values redacted; with
// all (inside a credential's array or object), every string but a key
// and the value of a safe key. depth counts the embedded documents b is
// inside.
func redactMembers(out, b []byte, all bool, depth int) []byte {
	for i := 0; i < len(b); {
		if b[i] != '"' {
			out = append(out, b[i])
			i++
			continue
		}
		end := jsonStringEnd(b, i)
		colon := skipSpace(b, end)
		if colon >= len(b) || b[colon] != ':' {
			// Not a key: an array's element, or text outside any member.
			if all {
				out = appendRedacted(out, b, i, end)
			} else {
				out = appendString(out, b[i:end], depth)
			}
			i = end
			continue
		}
		key := jsonKey(b[i:end])
		v := skipSpace(b, colon+1)
		out = append(out, b[i:v]...) // the key, the ':' and the spaces around it
		i = v
		if v >= len(b) {
			break
		}
		redact := credentialKey(key) || all && !safeKey(key)
		switch {
		case b[v] == '"':
			vend := jsonStringEnd(b, v)
			if redact {
				out = appendRedacted(out, b, v, vend)
			} else {
				out = appendString(out, b[v:vend], depth)
			}
			i = vend
		case redact && !all && (b[v] == '[' || b[v] == '{'):
			vend := jsonValueEnd(b, v)
			out = redactMembers(out, b[v:vend], true, depth)
			i = vend
		}
	}
	return out
}

// appendString appends the JSON string q; when q holds a JSON object or
// array (escaped), that document's credential fields are redacted and
// the string is encoded again. A string cut short (by a window or a
// limit) is read to its end, as a credential value that runs to the end
// is, and stays without its closing quote.
func appendString(out, q []byte, depth int) []byte {
	// A document with a member has quotes, escaped ("\"" or "\u0022"); it
	// starts with '{' or '[', possibly escaped or after escaped spaces.
	if j := skipSpace(q, 1); depth >= maxEmbeddedDepth || j >= len(q) || q[j] != '{' && q[j] != '[' && q[j] != '\\' ||
		bytes.IndexByte(q, '\\') < 0 {
		return append(out, q...)
	}
	closed := q[len(q)-1] == '"' && trailingBackslashes(q[:len(q)-1])%2 == 0
	text := q
	if !closed {
		// A copy: q is part of the body being scanned.
		text = append(append(make([]byte, 0, len(q)+1), trimPartialEscape(q)...), '"')
	}
	var s string
	if json.Unmarshal(text, &s) != nil {
		return append(out, q...)
	}
	doc := bytes.TrimSpace([]byte(s))
	if len(doc) == 0 || doc[0] != '{' && doc[0] != '[' {
		return append(out, q...)
	}
	red := redactMembers(nil, []byte(s), false, depth+1)
	if bytes.Equal(red, []byte(s)) {
		return append(out, q...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(string(red)) != nil {
		return append(out, q...)
	}
	re := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if !closed {
		re = re[:len(re)-1]
	}
	return append(out, re...)
}

// trailingBackslashes counts the backslashes b ends in.
func trailingBackslashes(b []byte) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n
}

// trimPartialEscape drops the escape a JSON string cut short ends inside
// (a lone "\" or "\u00" at its end).
func trimPartialEscape(q []byte) []byte {
	if trailingBackslashes(q)%2 == 1 {
		return q[:len(q)-1]
	}
	for k := 2; k <= 5 && k <= len(q); k++ {
		if i := len(q) - k; q[i] == '\\' && q[i+1] == 'u' && trailingBackslashes(q[:i+1])%2 == 1 {
			return q[:i]
		}
	}
	return q
}

// appendRedacted appends "[redacted]" in place of the JSON string
// b[start:end], without a closing quote when the string was cut short.
func appendRedacted(out, b []byte, start, end int) []byte {
	out = append(out, '"')
	out = append(out, redactedBytes...)
	if end-1 > start && b[end-1] == '"' {
		out = append(out, '"')
	}
	return out
}

// jsonKey returns the text of the quoted JSON string q, unescaped when it
// holds an escape (and decodes).
func jsonKey(q []byte) []byte {
	inner := q[1:]
	if len(inner) > 0 && inner[len(inner)-1] == '"' {
		inner = inner[:len(inner)-1]
	}
	if bytes.IndexByte(inner, '\\') >= 0 {
		var s string
		if json.Unmarshal(q, &s) == nil {
			return []byte(s)
		}
	}
	return inner
}

// jsonStringEnd returns the index just past the JSON string starting at
// b[start] (a quote), or len(b) when it is not closed.
func jsonStringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// jsonValueEnd returns the index just past the array or object starting
// at b[start], or len(b) when it is not closed.
func jsonValueEnd(b []byte, start int) int {
	depth := 0
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = jsonStringEnd(b, i) - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// credentialKey reports whether a JSON key names a credential value:
// accessToken, access_token, refresh-token, clientSecret, password,
// apiKey, authorization... but not a safe key (see safeKey).
func credentialKey(key []byte) bool {
	if safeKey(key) {
		return false
	}
	k := normalizeKey(key)
	for _, w := range []string{"token", "secret", "password", "passwd", "apikey", "authorization", "credential", "privatekey"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// safeKey reports whether a key names something about a credential that
// debugging needs and that grants nothing: its id, type, expiry, name, or
// the URL it is fetched from (accessTokenId, token_type, tokenName,
// token_url).
func safeKey(key []byte) bool {
	k := normalizeKey(key)
	for _, suffix := range []string{"id", "type", "expiresat", "name", "url", "uri"} {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// keyReplacer is built once: a key is normalized for every member of a
// body up to 64 KiB.
var keyReplacer = strings.NewReplacer("_", "", "-", "", " ", "")

func normalizeKey(key []byte) string {
	return keyReplacer.Replace(strings.ToLower(string(key)))
}

// redactSecrets replaces every occurrence of each secret in b with
// "[redacted]": as sent, and as it appears inside a JSON string, once or
// twice escaped (a body echoed inside an error message). b is modified or
// replaced; secrets shorter than 4 bytes are ignored.
func redactSecrets(b []byte, secrets []string, more ...string) []byte {
	for _, list := range [2][]string{secrets, more} {
		for _, s := range list {
			if len(s) < 4 {
				continue
			}
			form := s
			for i := 0; i < 3; i++ {
				b = bytes.ReplaceAll(b, []byte(form), redactedBytes)
				q, err := json.Marshal(form)
				if err != nil || string(q[1:len(q)-1]) == form {
					break
				}
				form = string(q[1 : len(q)-1])
			}
		}
	}
	return b
}

var redactedBytes = []byte("[redacted]")

// trimSecretStart drops the end of a cut body when it is the start of one
// of the secrets (at least 4 bytes long, as redactSecrets).
func trimSecretStart(b []byte, lists ...[]string) []byte {
	for _, list := range lists {
		for _, s := range list {
			if len(s) < 4 {
				continue
			}
			for k := min(len(s)-1, len(b)); k > 0; k-- {
				if bytes.HasSuffix(b, []byte(s[:k])) {
					b = b[:len(b)-k]
					break
				}
			}
		}
	}
	return b
}
