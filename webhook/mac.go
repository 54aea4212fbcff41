package webhook

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
)

// macKey is an HMAC-SHA256 key with its inner and outer pad states
// precomputed once, at construction, so each MAC hashes only the message
// (RFC 2104; FIPS 198-1 section 6 allows storing these intermediate
// values). Restoring a state is what crypto/hmac's Reset does for a reused
// HMAC, so a verification costs what a bare reused HMAC costs.
type macKey struct {
	inner, outer []byte // marshalled sha256 states after absorbing ipad/opad
}

// macState is the per-call scratch: one sha256 digest and buffers, pooled
// so a verification allocates nothing.
type macState struct {
	h     hash.Hash
	u     encoding.BinaryUnmarshaler // h, asserted once
	inner [sha256.Size]byte
	sum   [sha256.Size]byte
	sig   [64]byte  // decoded signature scratch
	text  [128]byte // encoded signature / "id.ts." scratch
}

var macPool = sync.Pool{New: func() any {
	h := sha256.New()
	return &macState{h: h, u: h.(encoding.BinaryUnmarshaler)}
}}

func getMAC() *macState   { return macPool.Get().(*macState) }
func putMAC(st *macState) { macPool.Put(st) }

func newMACKey(key []byte) (macKey, error) {
	if len(key) == 0 {
		return macKey{}, fmt.Errorf("%w: empty key", ErrInvalidSecret)
	}
	const block = 64
	if len(key) > block {
		s := sha256.Sum256(key)
		key = s[:]
	}
	var ipad, opad [block]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	h := sha256.New()
	m := h.(encoding.BinaryMarshaler)
	h.Write(ipad[:])
	inner, err := m.MarshalBinary()
	if err != nil {
		return macKey{}, err
	}
	h.Reset()
	h.Write(opad[:])
	outer, err := m.MarshalBinary()
	if err != nil {
		return macKey{}, err
	}
	// Check once that the states restore, so begin and finish need not.
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(inner); err != nil {
		return macKey{}, err
	}
	return macKey{inner: inner, outer: outer}, nil
}

// begin resets st.h to the inner state; the caller writes the message.
func (k *macKey) begin(st *macState) {
	_ = st.u.UnmarshalBinary(k.inner) // checked in newMACKey
}

// finish completes the MAC into st.sum.
func (k *macKey) finish(st *macState) []byte {
	in := st.h.Sum(st.inner[:0])
	_ = st.u.UnmarshalBinary(k.outer)
	st.h.Write(in)
	return st.h.Sum(st.sum[:0])
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// macText is the canonical standard base64 spelling of a 32-byte MAC
// (43 characters and one '='), encoded once per MAC and compared with
// every candidate.
type macText [44]byte

// base64Pairs maps 12 bits to their two base64 characters, first in the
// low byte, so encode does two lookups per three MAC bytes. Read-only.
var base64Pairs = func() (t [4096]uint16) {
	for i := range t {
		t[i] = uint16(base64Alphabet[i>>6]) | uint16(base64Alphabet[i&0x3f])<<8
	}
	return t
}()

// encode writes the standard base64 of the 32-byte mac into t.
func (t *macText) encode(mac []byte) {
	m := (*[32]byte)(mac)
	for i := 0; i < 10; i++ {
		v := uint32(m[3*i])<<16 | uint32(m[3*i+1])<<8 | uint32(m[3*i+2])
		binary.LittleEndian.PutUint32(t[4*i:4*i+4], uint32(base64Pairs[v>>12])|uint32(base64Pairs[v&0xfff])<<16)
	}
	v := uint32(m[30])<<16 | uint32(m[31])<<8
	binary.LittleEndian.PutUint32(t[40:], uint32(base64Pairs[v>>12])|uint32(base64Alphabet[v>>6&0x3f])<<16|'='<<24)
}

// equal reports whether s spells exactly t, reading eight bytes at a time
// and without an early exit (the time depends on len(s) only). Because t
// is the canonical encoding, a match is also strictly valid base64 (no
// padding bits set): a lenient spelling of the same MAC does not match.
func (t *macText) equal(s string) bool {
	if len(s) != len(t) {
		return false
	}
	var diff uint64
	for i := 0; i < 40; i += 8 {
		diff |= le64(s[i:]) ^ le64b(t[i:])
	}
	diff |= uint64(le32(s[40:]) ^ le32b(t[40:]))
	return diff == 0
}

// equalAnyBase64 reports whether some space-separated entry of
// signatures is "v1," followed by the canonical base64 of the 32-byte mac.
func equalAnyBase64(mac []byte, signatures string) bool {
	var t macText
	t.encode(mac)
	for rest := signatures; rest != ""; {
		var entry string
		entry, rest = nextEntry(rest)
		if len(entry) == 47 && entry[:3] == "v1," && t.equal(entry[3:]) {
			return true
		}
	}
	return false
}

// equalBase64 reports whether text is the canonical standard base64
// spelling of the 32-byte mac.
func equalBase64(mac []byte, text string) bool {
	if len(mac) != 32 {
		return false
	}
	var t macText
	t.encode(mac)
	return t.equal(text)
}

// equalHex reports, without an early exit, whether text is hex(mac) in
// either case, eight characters (four MAC bytes) per step. Folding sets
// bit 5 only on bytes with bit 6 set, so 'A'-'F' become 'a'-'f', digits
// stay, and no byte that is not a hex digit folds into one.
func equalHex(mac []byte, text string) bool {
	if len(mac) != 32 || len(text) != 64 {
		return false
	}
	const (
		lanes = 0x0101010101010101
		nib   = 0x000f000f000f000f
	)
	m := (*[32]byte)(mac)
	var diff uint64
	for i := 0; i < 8; i++ {
		// One MAC byte per even lane, then its high nibble stays in the
		// even lane and its low nibble moves to the odd lane after it.
		w := uint64(m[4*i]) | uint64(m[4*i+1])<<16 | uint64(m[4*i+2])<<32 | uint64(m[4*i+3])<<48
		x := (w>>4)&nib | (w&nib)<<8
		// Nibble to its lower-case hex digit: '0'+x, plus 39 where x >= 10.
		want := x + 0x30*lanes + ((x+6*lanes)>>4&lanes)*39
		got := le64(text)
		text = text[8:]
		got |= (got & (0x40 * lanes)) >> 1
		diff |= got ^ want
	}
	return diff == 0
}

// le64 and le32 read the first 8 or 4 bytes of s, little-endian (one load
// each once compiled); le64b and le32b read a byte slice.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func le64b(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32b(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// writeString writes s to h without converting it to a []byte copy.
func writeString(h hash.Hash, s string) {
	if sw, ok := h.(interface{ WriteString(string) (int, error) }); ok {
		_, _ = sw.WriteString(s)
		return
	}
	_, _ = h.Write([]byte(s))
}
