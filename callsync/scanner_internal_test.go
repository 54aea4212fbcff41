package callsync

import (
	"bytes"
	"crypto/sha256"
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

// FuzzScannerMatchesReference: on any valid JSON, skipValue ends every
// value where the byte-at-a-time scanner did, and hashCompact hashes the
// same bytes.
func FuzzScannerMatchesReference(f *testing.F) {
	f.Add([]byte(`{"timestamp":1,"payload_id":"p","x":"a \"b\" {c}"}`))
	f.Add([]byte(` [ "a\\", {"b" : [ 1 , 2.5e3, true, null ] } ] `))
	f.Add([]byte(`{"k":"\\\"","t":"\u0022"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		for i := range body {
			if got, want := skipValue(body, i), refSkipValue(body, i); i == skipSpace(body, 0) && got != want {
				t.Fatalf("skipValue(%q, %d) = %d, want %d", body, i, got, want)
			}
		}
		sum := func(f func(hash.Hash, []byte), b []byte) string {
			h := sha256.New()
			f(h, b)
			return string(h.Sum(nil))
		}
		for k := range min(len(body), 64) + 1 { // the key hashes the body around a value
			for _, b := range [][]byte{body[:k], body[k:]} {
				if sum(hashCompact, b) != sum(refHashCompact, b) {
					t.Fatalf("hashCompact(%q) differs", b)
				}
			}
		}
		if ts, id, err := topLevel(body); err == nil {
			rts, rid, _ := refTopLevel(body)
			if ts != rts || id != rid {
				t.Fatalf("topLevel(%q) = %v %v, want %v %v", body, ts, id, rts, rid)
			}
		}
	})
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

// refSkipValue is the byte-at-a-time skipValue this package had before: it returns the end of the JSON value starting at i (valid JSON).
func refSkipValue(b []byte, i int) int {
	depth, inStr := 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			i++
		case inStr:
			inStr = c != '"'
			if !inStr && depth == 0 {
				return i + 1
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return i
		}
	}
	return i
}

// refHashCompact is the byte-at-a-time hashCompact: it writes b to h without the whitespace outside strings,
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
