package webhook

import (
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Verifier checks one webhook delivery. Implementations are safe for
// concurrent use.
type Verifier interface {
	// Verify checks the signature headers against the raw body and returns
	// what was verified. The error wraps one of the package sentinels.
	Verify(header http.Header, body []byte) (Delivery, error)
}

// Delivery is what a successful verification established.
type Delivery struct {
	// ID is the delivery id for schemes that sign one (Standard Webhooks'
	// svix-id / webhook-id); empty otherwise.
	ID string
	// Timestamp is the signed timestamp; zero for schemes without one.
	Timestamp time.Time
	// SecretIndex is the index of the secret that matched, so rotations can
	// be monitored (0 is the first secret given).
	SecretIndex int
}

// HMAC verifies HMAC-SHA256 signatures of the raw body, hex encoded (either
// case) in one header, optionally after a prefix such as "sha256=".
type HMAC struct {
	header string
	prefix string
	keys   []macKey
}

// NewHMAC returns a verifier for header (e.g. "X-Hmac-Signature") holding
// prefix + hex(HMAC-SHA256(secret, body)). prefix is "" for plain hex or,
// for example, "sha256=". Each secret is used as raw bytes; several
// secrets let one rotate without downtime.
func NewHMAC(header, prefix string, secrets ...string) (*HMAC, error) {
	if header == "" {
		return nil, wrap(ErrInvalidOption, "signature header name is empty")
	}
	if len(secrets) == 0 {
		return nil, wrap(ErrInvalidSecret, "no secret given")
	}
	v := &HMAC{header: http.CanonicalHeaderKey(header), prefix: prefix}
	for i, s := range secrets {
		if s == "" {
			return nil, wrap(ErrInvalidSecret, "secret %d is empty", i)
		}
		if strings.TrimSpace(s) != s {
			return nil, wrap(ErrInvalidSecret, "secret %d has leading or trailing white space", i)
		}
		k, err := newMACKey([]byte(s))
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// Header returns the signature header name.
func (v *HMAC) Header() string { return v.header }

// Verify implements Verifier.
func (v *HMAC) Verify(header http.Header, body []byte) (Delivery, error) {
	vals := header[v.header]
	if len(vals) == 0 || vals[0] == "" {
		return Delivery{}, wrap(ErrMissingHeader, "%s", v.header)
	}
	if len(vals) > 1 {
		return Delivery{}, wrap(ErrMalformed, "%s appears %d times", v.header, len(vals))
	}
	sig := strings.TrimSpace(vals[0])
	if v.prefix != "" {
		if len(sig) < len(v.prefix) || !equalFoldASCII(sig[:len(v.prefix)], v.prefix) {
			return Delivery{}, wrap(ErrMalformed, "%s does not start with %q", v.header, v.prefix)
		}
		sig = sig[len(v.prefix):]
	}
	if len(sig) != 64 {
		return Delivery{}, wrap(ErrMalformed, "%s: want 64 hex digits, got %d characters", v.header, len(sig))
	}
	// Hash once per secret and compare against the hex spelling of each
	// MAC in constant time; only a signature that matched nothing is
	// decoded, to tell a malformed header from a wrong signature.
	st := getMAC()
	for i := range v.keys {
		k := &v.keys[i]
		k.begin(st)
		st.h.Write(body)
		if equalHex(k.finish(st), sig) {
			putMAC(st)
			return Delivery{SecretIndex: i}, nil
		}
	}
	putMAC(st)
	if !isHex(sig) {
		return Delivery{}, wrap(ErrMalformed, "%s is not hex", v.header)
	}
	return Delivery{}, wrap(ErrNoMatchingSignature, "%s", v.header)
}

// equalFoldASCII is strings.EqualFold for ASCII letters only (a prefix
// such as "sha256="), without the Unicode machinery.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// DefaultTolerance is the default Standard Webhooks timestamp window.
const DefaultTolerance = 5 * time.Minute

// Standard verifies Standard Webhooks / Svix signatures.
type Standard struct {
	keys      []macKey
	tolerance time.Duration
	skipTime  bool
	clock     clock.Clock // nil: the real clock, read through wall
	wall      *wallClock
}

// wallClock reads the real wall time with one monotonic clock read per
// call (time.Since on a base with a monotonic reading), about half the
// cost of time.Now, which reads the wall and the monotonic clock. The base
// is re-read at least every second, so a step of the system clock is
// followed within a second; the timestamp window is minutes wide.
type wallClock struct {
	base atomic.Pointer[wallBase]
}

func (w *wallClock) unixNano() int64 {
	if b := w.base.Load(); b != nil {
		if el := time.Since(b.mono); el >= 0 && el < time.Second {
			return b.wall + int64(el)
		}
	}
	n := time.Now()
	w.base.Store(&wallBase{mono: n, wall: n.UnixNano()})
	return n.UnixNano()
}

type wallBase struct {
	mono time.Time // with its monotonic reading
	wall int64     // mono's wall time in Unix nanoseconds
}

// Clock is the time source verifiers, receivers, stores and inboxes read.
// time.Now and time.After through the real clock by default; tests pass a
// webhooktest.FakeClock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

const secretPrefix = "whsec_"

// ParseStandardSecret decodes a Standard Webhooks secret: "whsec_" followed
// by base64, or bare base64 as the Svix libraries also accept. It refuses
// an empty secret, one that does not decode, and a signature pasted in
// place of a secret ("v1,...").
func ParseStandardSecret(s string) ([]byte, error) {
	switch {
	case s == "":
		return nil, wrap(ErrInvalidSecret, "secret is empty")
	case strings.HasPrefix(s, "v1,") || strings.HasPrefix(s, "v1a,"):
		return nil, wrap(ErrInvalidSecret, "secret starts with %q: that is a signature from a webhook header, not the signing secret (whsec_...)", s[:strings.IndexByte(s, ',')+1])
	case strings.TrimSpace(s) != s:
		return nil, wrap(ErrInvalidSecret, "secret has leading or trailing white space")
	}
	raw := strings.TrimPrefix(s, secretPrefix)
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, wrap(ErrInvalidSecret, "secret is not whsec_ followed by standard base64 (%v)", err)
	}
	if len(key) == 0 {
		return nil, wrap(ErrInvalidSecret, "secret decodes to zero bytes")
	}
	return key, nil
}

// NewStandard returns a Standard Webhooks verifier for one or more
// "whsec_" secrets (several secrets allow rotation).
func NewStandard(secrets []string, opts ...VerifierOption) (*Standard, error) {
	if len(secrets) == 0 {
		return nil, wrap(ErrInvalidSecret, "no secret given")
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := ParseStandardSecret(s)
		if err != nil {
			if len(secrets) > 1 {
				return nil, wrapIndex(err, i)
			}
			return nil, err
		}
		keys = append(keys, k)
	}
	return NewStandardRaw(keys, opts...)
}

func wrapIndex(err error, i int) error {
	return &indexedErr{i: i, err: err}
}

type indexedErr struct {
	i   int
	err error
}

func (e *indexedErr) Error() string { return "secret " + strconv.Itoa(e.i) + ": " + e.err.Error() }
func (e *indexedErr) Unwrap() error { return e.err }

// NewStandardRaw is NewStandard for secrets given as raw key bytes.
func NewStandardRaw(keys [][]byte, opts ...VerifierOption) (*Standard, error) {
	if len(keys) == 0 {
		return nil, wrap(ErrInvalidSecret, "no secret given")
	}
	o := settings{tolerance: DefaultTolerance, clock: clock.Real{}}
	if err := apply(&o, opts); err != nil {
		return nil, err
	}
	v := &Standard{tolerance: o.tolerance, skipTime: o.skipTime, clock: o.clock}
	if _, isReal := o.clock.(clock.Real); isReal || o.clock == nil {
		v.clock, v.wall = nil, new(wallClock)
	}
	for i, k := range keys {
		if len(k) == 0 {
			return nil, wrap(ErrInvalidSecret, "secret %d is empty", i)
		}
		mk, err := newMACKey(k)
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, mk)
	}
	return v, nil
}

// standardHeaders returns the id, timestamp and signature, from the svix-*
// set when it is complete, else the webhook-* set.
func standardHeaders(h http.Header) (id, ts, sig string, err error) {
	// Fast path: the complete svix-* set, each header once.
	if i, t, g := h["Svix-Id"], h["Svix-Timestamp"], h["Svix-Signature"]; len(i) == 1 && len(t) == 1 && len(g) == 1 &&
		i[0] != "" && t[0] != "" && g[0] != "" {
		return i[0], t[0], g[0], nil
	}
	get := func(k string) (string, error) {
		v := h[k]
		if len(v) > 1 {
			return "", wrap(ErrMalformed, "%s appears %d times", strings.ToLower(k), len(v))
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	for _, set := range [2][3]string{{"Svix-Id", "Svix-Timestamp", "Svix-Signature"}, {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}} {
		if id, err = get(set[0]); err != nil {
			return
		}
		if ts, err = get(set[1]); err != nil {
			return
		}
		if sig, err = get(set[2]); err != nil {
			return
		}
		if id != "" && ts != "" && sig != "" {
			return id, ts, sig, nil
		}
	}
	missing := "svix-id"
	switch {
	case id != "" && ts == "":
		missing = "svix-timestamp"
	case id != "" && ts != "":
		missing = "svix-signature"
	}
	return "", "", "", wrap(ErrMissingHeader, "%s (or webhook-*)", missing)
}

// parseTimestamp accepts decimal Unix seconds without sign or leading zeros.
func parseTimestamp(ts string) (int64, bool) {
	if len(ts) == 0 || len(ts) > 18 || (ts[0] == '0' && len(ts) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(ts); i++ {
		d := ts[i] - '0' // wraps above 9 for anything below '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	return n, true
}

// Verify implements Verifier.
func (v *Standard) Verify(header http.Header, body []byte) (Delivery, error) {
	id, ts, sigs, err := standardHeaders(header)
	if err != nil {
		return Delivery{}, err
	}
	return v.VerifyParts(id, ts, sigs, body)
}

// VerifyParts verifies with the three header values given directly.
func (v *Standard) VerifyParts(id, timestamp, signatures string, body []byte) (Delivery, error) {
	if id == "" || timestamp == "" || signatures == "" {
		return Delivery{}, wrap(ErrMissingHeader, "id, timestamp and signature are all required")
	}
	if err := checkMessageID(id); err != nil {
		return Delivery{}, err
	}
	secs, ok := parseTimestamp(timestamp)
	if !ok {
		return Delivery{}, wrap(ErrMalformed, "timestamp %.20q is not Unix seconds", timestamp)
	}
	if !v.skipTime {
		if err := v.checkWindow(secs); err != nil {
			return Delivery{}, err
		}
	}
	sent := time.Unix(secs, 0)
	// Every well-formed signature is checked, however many the header
	// carries (it is bounded by the header size, not by a count). A cheap
	// syntactic pass refuses a header without any candidate before the body
	// is hashed; then the body is hashed once per secret and the canonical
	// base64 of each MAC is compared in constant time with every v1 entry.
	// A match is strictly valid base64 by construction; only when nothing
	// matched are the entries decoded, to tell malformed from wrong. The
	// usual header, one entry with the shape of a v1 signature ("v1," and
	// 44 characters), needs no syntactic pass: it is one candidate, and
	// its text is compared with the MAC's canonical encoding.
	one := len(signatures) == 47 && signatures[:3] == "v1,"
	if !one && !anyCandidate(signatures) {
		return Delivery{}, wrap(ErrMalformed, "no well-formed signature in signature header")
	}
	st := getMAC()
	for ki := range v.keys {
		k := &v.keys[ki]
		k.begin(st)
		writeSigned(st, id, timestamp, body)
		mac := k.finish(st)
		if one && equalBase64(mac, signatures[3:]) || !one && equalAnyBase64(mac, signatures) {
			putMAC(st)
			return Delivery{ID: id, Timestamp: sent, SecretIndex: ki}, nil
		}
	}
	err := noMatch(st, id, signatures)
	putMAC(st)
	return Delivery{}, err
}

// noMatch says why no signature matched: none is well-formed (malformed),
// or the well-formed ones are wrong or of other versions.
func noMatch(st *macState, id, signatures string) error {
	wellFormed, anyV1 := false, false
	for rest := signatures; rest != ""; {
		var entry string
		entry, rest = nextEntry(rest)
		switch sigEntryKind(st, entry) {
		case entryV1:
			wellFormed, anyV1 = true, true
		case entryOtherVersion:
			wellFormed = true
		}
	}
	if !wellFormed {
		return wrap(ErrMalformed, "no well-formed signature in signature header")
	}
	if !anyV1 {
		// Only other versions (v1a, v2, ...): well-formed under Standard
		// Webhooks, and none of them can match a v1 secret.
		return wrap(ErrNoMatchingSignature, "message %.64s: no v1 signature", id)
	}
	return wrap(ErrNoMatchingSignature, "message %.64s", id)
}

// anyCandidate reports whether some entry has the shape of a v1 signature
// ("v1," and 44 characters) or of another version ("v<alnum>,<text>").
func anyCandidate(signatures string) bool {
	for rest := signatures; rest != ""; {
		var entry string
		entry, rest = nextEntry(rest)
		if len(entry) == 47 && entry[:3] == "v1," {
			return true
		}
		if v := versionOf(entry); v != "" && v != "v1" {
			return true
		}
	}
	return false
}

// versionOf returns the "v<alnum>" version of "<version>,<signature>", or
// "" when entry does not have that shape.
func versionOf(entry string) string {
	comma := strings.IndexByte(entry, ',')
	if comma < 2 || entry[0] != 'v' || comma == len(entry)-1 {
		return ""
	}
	for i := 1; i < comma; i++ {
		if c := entry[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return ""
		}
	}
	return entry[:comma]
}

// checkWindow refuses a timestamp (Unix seconds) outside the tolerance
// around now, in integer nanoseconds (no time.Time arithmetic per call).
func (v *Standard) checkWindow(secs int64) error {
	var now int64
	if v.clock == nil {
		now = v.wall.unixNano()
	} else {
		now = v.clock.Now().UnixNano()
	}
	const maxSecs = math.MaxInt64/int64(time.Second) - 1
	if secs > maxSecs {
		return wrap(ErrTimestampTooNew, "timestamp %d is centuries in the future, tolerance %s", secs, v.tolerance)
	}
	age := time.Duration(now - secs*int64(time.Second))
	if age > v.tolerance {
		return wrap(ErrTimestampTooOld, "signed %s ago, tolerance %s", age.Truncate(time.Second), v.tolerance)
	}
	if -age > v.tolerance {
		return wrap(ErrTimestampTooNew, "signed %s in the future, tolerance %s", (-age).Truncate(time.Second), v.tolerance)
	}
	return nil
}

// checkMessageID refuses ids that would make the signed content
// "id.timestamp.body" ambiguous (a dot) or that are not one header token
// (a space or tab). The verifier and the signer share it.
func checkMessageID(id string) error {
	if id == "" {
		return wrap(ErrMalformed, "message id is empty")
	}
	if !tokenWithoutDot(id) {
		return wrap(ErrMalformed, "message id contains a dot, space or tab")
	}
	return nil
}

// tokenWithoutDot reports whether id has no dot, space or tab, eight
// bytes at a time: x-lo&^x has bit 7 set in a byte where x is zero (and
// only when some byte of x is zero), x being id's word XOR the character
// in every byte.
func tokenWithoutDot(id string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	var found uint64
	i := 0
	for ; i+8 <= len(id); i += 8 {
		w := le64(id[i:])
		x, y, z := w^('.'*lo), w^(' '*lo), w^('\t'*lo)
		found |= (x-lo)&^x | (y-lo)&^y | (z-lo)&^z
	}
	if found&hi != 0 {
		return false
	}
	for ; i < len(id); i++ {
		if c := id[i]; c == '.' || c == ' ' || c == '\t' {
			return false
		}
	}
	return true
}

// nextEntry splits the first space-separated entry off a signature list.
func nextEntry(s string) (entry, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

type entryKind int

const (
	entryJunk         entryKind = iota // not "<version>,<signature>"
	entryV1                            // "v1,<strict base64 of 32 bytes>", decoded into st.sig
	entryOtherVersion                  // "v1a,...", "v2,...": well-formed, never matches
)

// strictBase64 gives every 32-byte signature exactly one spelling (no
// non-zero padding bits).
var strictBase64 = base64.StdEncoding.Strict()

// sigEntryKind classifies one entry; for entryV1 the decoded signature is
// left in st.sig[:32].
func sigEntryKind(st *macState, entry string) entryKind {
	version := versionOf(entry)
	switch version {
	case "":
		return entryJunk
	case "v1":
	default:
		return entryOtherVersion
	}
	b64 := entry[len(version)+1:]
	if len(b64) != 44 { // base64 of 32 bytes
		return entryJunk
	}
	copy(st.text[:], b64)
	m, err := strictBase64.Decode(st.sig[:], st.text[:44])
	if err != nil || m != 32 {
		return entryJunk
	}
	return entryV1
}

// writeSigned writes the signed content "id.timestamp.body" into the MAC
// without allocating. The inner state after the key block holds no
// buffered bytes, so "id.timestamp." and the start of the body are written
// as one whole block from st.text and the rest of the body straight after:
// sha256 hashes both in place, and only the tail of the body is copied.
func writeSigned(st *macState, id, ts string, body []byte) {
	buf := &st.text
	n := len(id) + len(ts) + 2
	if n > len(buf) {
		writeString(st.h, id)
		st.h.Write(dot)
		writeString(st.h, ts)
		st.h.Write(dot)
		st.h.Write(body)
		return
	}
	i := copy(buf[:], id)
	buf[i] = '.'
	i++
	i += copy(buf[i:], ts)
	buf[i] = '.'
	i++
	// Fill up to the next block boundary (64 or 128 bytes) from the body.
	end := min((n+63)&^63, n+len(body))
	k := copy(buf[i:end], body)
	st.h.Write(buf[:end])
	st.h.Write(body[k:])
}

var dot = []byte{'.'}
