package callsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The scanner that finds the top-level timestamp and payload_id and
// hashes the compact body jumps through strings; the keys it makes must
// stay the keys the byte-at-a-time scanner made (a shared dedupe store
// holds keys across versions). These are the keys of before.
func TestDeliveryKeyUnchanged(t *testing.T) {
	for body, want := range map[string]string{
		`{"timestamp":1,"payload_id":"p","x":"a \"b\\\\\" {c}"}`:                           "p:sha256:f6736de8f1aedca3fa6fd622112dff9b466a0729996140f996ce725992b4c0f6",
		` { "a" : [1, {"timestamp": "x"}], "timestamp" : "t", "payload_id" : "p\u00e9" } `: "p\u00e9:sha256:e9dd3e74204cb7d3c17e43ec0227622b3adcc0b04301ba00e8ea1ed1001f39f5",
		`{"x":"\\"}`: "sha256:d87d62e1092456c9ea55232bbc31fce5f2ecfb9fd13f49a858fbe0942cce12ff",
	} {
		got, err := DeliveryKey([]byte(body))
		assert.NoError(t, err)
		var w string
		assert.NoError(t, json.Unmarshal([]byte(`"`+want+`"`), &w))
		assert.Equal(t, w, got, body)
	}
}

// FuzzDeliveryKeyMatchesReference: on any valid JSON, the one-pass key
// is the key of before: the byte-at-a-time compaction of the body around
// the last top-level timestamp value (found by encoding/json's
// tokenizer), hashed, after the top-level payload_id.
func FuzzDeliveryKeyMatchesReference(f *testing.F) {
	f.Add([]byte(`{"timestamp":1,"payload_id":"p","x":"a \"b\" {c}"}`))
	f.Add([]byte(` { "payload_id" : "q" , "a" : [ "a\\", {"b" : [ 1 , 2.5e3, true, null ] } ], "timestamp" : { "t" : 1 } } `))
	f.Add([]byte(`{"k":"\\\"","timestamp":"1","t":"\u0022","timestamp":"2","payload_id":null}`))
	f.Add([]byte(`{"payload_id":"a\u0062","timestamp":"x"}`))
	f.Add([]byte(`[1]`))
	f.Add([]byte("{\"payload_id\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		got, err := deliveryKey(body)
		want, werr := refDeliveryKey(body)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("deliveryKey(%q) = %q, %v; want %q, %v", body, got, err, want, werr)
		}
	})
}

// refDeliveryKey is deliveryKey as it was, on the reference scanners.
func refDeliveryKey(body []byte) (string, error) {
	ts, id, err := refTopLevel(body)
	if err != nil {
		return "", errors.New("not an object")
	}
	h := sha256.New()
	if ts[1] > 0 {
		refHashCompact(h, body[:ts[0]])
		refHashCompact(h, body[ts[1]:])
	} else {
		refHashCompact(h, body)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if v := body[id[0]:id[1]]; len(v) > 2 && v[0] == '"' && !bytes.Contains(v, []byte{'\\'}) {
		return string(v[1:len(v)-1]) + ":sha256:" + sum, nil // as sent, even if not UTF-8
	}
	var pid string
	if id[1] > 0 && json.Unmarshal(body[id[0]:id[1]], &pid) == nil && pid != "" {
		return pid + ":sha256:" + sum, nil
	}
	return "sha256:" + sum, nil
}

// refTopLevel finds the value ranges of the last top-level timestamp and
// payload_id with encoding/json's tokenizer: a reference independent of
// the package's scanner.
func refTopLevel(body []byte) (ts, id [2]int, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ts, id, errors.New("not an object")
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ts, id, err
		}
		start := int(dec.InputOffset())
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ts, id, err
		}
		end := int(dec.InputOffset())
		start += bytes.Index(body[start:end], v) // past the colon and the whitespace
		switch key {
		case "timestamp":
			ts = [2]int{start, start + len(v)}
		case "payload_id":
			id = [2]int{start, start + len(v)}
		}
	}
	return ts, id, nil
}

// refHashCompact is the byte-at-a-time compaction DeliveryKey hashed
// before: it writes b to h without the whitespace outside strings,
// through a buffer so h sees few large writes.
func refHashCompact(h hash.Hash, b []byte) {
	var buf [512]byte
	n, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr:
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		buf[n] = c
		if n++; n == len(buf) {
			h.Write(buf[:])
			n = 0
		}
	}
	h.Write(buf[:n])
}
