package callsync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/bits"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/receiverkit"
	"github.com/callcrm/callcrm-go/webhook"
)

// HeaderSignature carries hex(HMAC-SHA256(secret, raw body)).
const HeaderSignature = "X-CallSync-Signature"

// Defaults for the receiver.
const (
	// DefaultDedupeTTL is how long processed deliveries are remembered.
	DefaultDedupeTTL = 24 * time.Hour
	// DefaultTimeout bounds a callback. CallSync documents no delivery
	// timeout; 10 s is a common sender timeout.
	DefaultTimeout = 10 * time.Second
)

// Func handles an event; an error answers 500 so CallSync can retry.
type Func func(ctx context.Context, ev *Event) error

// Callbacks route events; nil callbacks acknowledge their events.
type Callbacks struct {
	CallLogged       Func
	RecordingUpdated Func
	AIAnalysis       Func
	CallerUpdated    Func
	// Unknown receives any other event (including a body without an
	// "event" field, such as a test payload) with the raw bytes.
	Unknown webhook.HandlerFunc
}

// routes is the one table from event type to callback.
var routes = map[EventType]func(*Callbacks) Func{
	EventCallLogged:       func(c *Callbacks) Func { return c.CallLogged },
	EventRecordingUpdated: func(c *Callbacks) Func { return c.RecordingUpdated },
	EventAIAnalysis:       func(c *Callbacks) Func { return c.AIAnalysis },
	EventCallerUpdated:    func(c *Callbacks) Func { return c.CallerUpdated },
}

// Handler receives CallSync webhooks. It is an http.Handler; create it
// with NewHandler and stop it with Shutdown.
//
// It is the one webhook engine, configured for CallSync: see
// webhook.Receiver for its methods (ServeHTTP, Shutdown, Stats, Process).
type Handler = webhook.Receiver

// receiver configures the webhook engine with CallSync's facts, for NewHandler
// (cb set) and Middleware (cb nil).
func receiver(where string, secrets []string, cb *Callbacks, opts []webhook.Option) (*webhook.Receiver, error) {
	rt := receiverkit.NewRouter(routes, cb, func(c *Callbacks) webhook.HandlerFunc { return c.Unknown })
	return receiverkit.Build(where, secrets, webhook.Spec[*Event]{
		Provider:    "callsync",
		NewVerifier: func(s []string) (webhook.Verifier, error) { return webhook.NewHMAC(HeaderSignature, "", s...) },
		Timeout:     DefaultTimeout,
		DedupeTTL:   DefaultDedupeTTL,
		Headers:     []string{HeaderSignature, "Content-Type"},
		Parse:       parse,
		Time: func(ev *Event) (time.Time, bool) {
			return ev.Timestamp.Time, ev.Timestamp.Valid
		},
		Handle: func(ctx context.Context, wev *webhook.Event, ev *Event, _ webhook.Once) error {
			_, err := rt.Route(ctx, wev, ev.Type, ev)
			return err
		},
	}, opts)
}

// parse decodes the event and names the delivery by DeliveryKey.
func parse(wev *webhook.Event) (*Event, error) {
	ev, err := ParseEvent(wev.Raw)
	if err != nil {
		return nil, err
	}
	if wev.ID, err = deliveryKey(wev.Raw); err != nil { // ParseEvent checked the JSON
		return nil, err
	}
	wev.Type = string(ev.Type)
	return ev, nil
}

// DeliveryKey returns the key a CallSync delivery is processed once
// under: its payload_id, then a hash of the event without its envelope
// timestamp. CallSync's payload_id is not unique per event (the guide's
// sample uses one value per event type), and the envelope timestamp is
// when the payload was sent, which a retry may change. What identifies
// the event is everything else: the event name, org_id, the call
// (data.call_details.call_id) and what the event says about it. So a
// retry with a new timestamp is a duplicate, two calls (or two updates
// of one call) sharing a payload_id are two events, and whitespace does
// not matter (the body is hashed without it, strings as sent). A body
// without payload_id is keyed by the hash alone. It reads the body once,
// without decoding it.
func DeliveryKey(body []byte) (string, error) {
	if !json.Valid(body) {
		return "", errors.New("callsync: decoding event: not one JSON value")
	}
	return deliveryKey(body)
}

// deliveryKey is DeliveryKey for a body already known to be valid JSON.
// The body is compacted once, on the stack, with the top-level values
// found on the way; the hash is of that compact form without the
// timestamp's value.
func deliveryKey(body []byte) (string, error) {
	var stack [2 << 10]byte
	c, ts, id, err := compactTop(stack[:0], body)
	if err != nil {
		return "", err
	}
	if n := ts[1] - ts[0]; n > 0 {
		c = append(c[:ts[0]], c[ts[1]:]...)
		if id[0] >= ts[1] {
			id[0], id[1] = id[0]-n, id[1]-n
		}
	}
	sum := sha256.Sum256(c)
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	if id[1] > 0 {
		if v := c[id[0]:id[1]]; len(v) > 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
			return string(v[1:len(v)-1]) + ":sha256:" + string(hexSum[:]), nil // one allocation
		}
		var pid string // a copy to decode, so c can stay on the stack
		if json.Unmarshal(bytes.Clone(c[id[0]:id[1]]), &pid) == nil && pid != "" {
			return pid + ":sha256:" + string(hexSum[:]), nil
		}
	}
	return "sha256:" + string(hexSum[:]), nil
}

// compactTop appends body (a JSON value, valid JSON) to dst without the
// whitespace outside strings, and returns where in what it appended the
// values of the top-level timestamp and payload_id stand (the last of
// each; a zero range when absent). What stands between two runs of
// whitespace is copied in one piece.
func compactTop(dst, b []byte) (out []byte, ts, id [2]int, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, ts, id, errors.New("callsync: decoding event: not a JSON object")
	}
	depth, start := 0, 0
	var which *[2]int // the top-level value being copied, if one of the two
	key := false      // the next string is a top-level key
	run := i          // b[run:i] is appended to dst at the next whitespace
	for i < len(b) {
		switch c := b[i]; class[c] {
		case classSpace:
			dst = append(dst, b[run:i]...)
			i = skipBlanks(b, i+1)
			run = i
			continue
		case classQuote:
			j := skipString(b, i)
			if key {
				switch string(b[i+1 : max(j-1, i+1)]) {
				case "timestamp":
					which = &ts
				case "payload_id":
					which = &id
				}
				key = false
			}
			i = j
			continue
		case classColon:
			if depth == 1 {
				start = len(dst) + i - run + 1
			}
		case classComma, classClose:
			if depth == 1 {
				if which != nil {
					*which = [2]int{start, len(dst) + i - run}
				}
				which, key = nil, c == ','
			}
			if c != ',' {
				depth--
			}
		case classOpen:
			depth++
			key = depth == 1
		}
		i++ // a literal's byte or punctuation
	}
	dst = append(dst, b[run:]...)
	return dst, ts, id, nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && space[b[i]] {
		i++
	}
	return i
}

// skipBlanks returns the index of the first byte at or after i that is
// not JSON whitespace, stepping over spaces eight at a time (a
// pretty-printed body's indentation).
func skipBlanks(b []byte, i int) int {
	for i+8 <= len(b) {
		if x := binary.LittleEndian.Uint64(b[i:]) ^ 0x2020202020202020; x != 0 {
			i += bits.TrailingZeros64(x) / 8
			break
		}
		i += 8
	}
	return skipSpace(b, i)
}

// space classifies JSON whitespace.
var space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// class classifies bytes outside JSON strings for compactTop.
var class = [256]uint8{' ': classSpace, '\t': classSpace, '\n': classSpace, '\r': classSpace, '"': classQuote,
	'{': classOpen, '[': classOpen, '}': classClose, ']': classClose, ',': classComma, ':': classColon}

// Byte classes outside JSON strings.
const (
	classLiteral uint8 = iota // part of a number, true, false or null
	classSpace
	classQuote
	classOpen
	classClose
	classComma
	classColon
)

// skipString returns the end of the JSON string starting at b[i] ('"'),
// past its closing quote, or len(b) if it is not closed. It jumps from
// quote to quote.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		escaped := false
		for m := j - 1; m > i && b[m] == '\\'; m-- {
			escaped = !escaped
		}
		if !escaped {
			return j + 1
		}
	}
	return len(b)
}

// NewHandler returns a Handler verifying X-CallSync-Signature with secrets
// (several during a rotation) and routing events by their "event" field,
// through the one webhook engine (see package webhook for the contract:
// 405, 413, 408, 401, 400 naming a field that does not decode; each
// delivery processed once; 500 on a callback error or panic; 504 at the
// deadline, 10 s by default). A delivery is keyed by DeliveryKey: its
// payload_id and the event's content without the envelope timestamp.
//
// Options are package webhook's: WithLogger, WithDedupe, WithClock,
// WithMaxBodyBytes, WithErrorHook, WithTimeout, WithInbox, WithName,
// WithTolerance (refuse events whose timestamp is further than that from
// now: replay protection, off by default).
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	return receiver("NewHandler", secrets, &cb, opts)
}

// Middleware verifies and deduplicates CallSync deliveries in front of
// your own handler, which gets the verified body on r.Body and the event
// from EventFrom(r.Context()); a 2xx from it marks the delivery done.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	return receiverkit.Middleware(receiver("Middleware", secrets, nil, opts))
}

// EventFrom returns the verified event Middleware put in the request
// context.
func EventFrom(ctx context.Context) (*Event, bool) {
	return webhook.ParsedAs[*Event](ctx)
}

var _ json.Unmarshaler = (*AIAnalysis)(nil)
