package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding"
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

const (
	base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexAlphabet    = "0123456789abcdef"
)

// equalBase64 reports, in constant time, whether text is the standard
// base64 spelling of the 32-byte mac. It encodes while comparing (no
// buffer, no decode). Our encoding is canonical, so a match is also a
// strictly valid encoding (no padding bits set).
func equalBase64(mac []byte, text string) bool {
	if len(mac) != 32 || len(text) != 44 {
		return false
	}
	var diff byte
	for i, j := 0, 0; i < 30; i, j = i+3, j+4 {
		v := uint(mac[i])<<16 | uint(mac[i+1])<<8 | uint(mac[i+2])
		t := text[j : j+4]
		diff |= t[0] ^ base64Alphabet[v>>18&0x3f]
		diff |= t[1] ^ base64Alphabet[v>>12&0x3f]
		diff |= t[2] ^ base64Alphabet[v>>6&0x3f]
		diff |= t[3] ^ base64Alphabet[v&0x3f]
	}
	v := uint(mac[30])<<16 | uint(mac[31])<<8
	diff |= text[40] ^ base64Alphabet[v>>18&0x3f]
	diff |= text[41] ^ base64Alphabet[v>>12&0x3f]
	diff |= text[42] ^ base64Alphabet[v>>6&0x3f]
	diff |= text[43] ^ '='
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// equalHex reports, in constant time, whether text is hex(mac) in either
// case. Folding sets bit 5 only on bytes with bit 6 set, so 'A'-'F' become
// 'a'-'f', digits stay, and no byte that is not a hex digit folds into one.
func equalHex(mac []byte, text string) bool {
	if len(text) != 2*len(mac) {
		return false
	}
	var diff byte
	for i, b := range mac {
		t := text[2*i : 2*i+2]
		c0, c1 := t[0], t[1]
		diff |= (c0 | (c0&0x40)>>1) ^ hexAlphabet[b>>4]
		diff |= (c1 | (c1&0x40)>>1) ^ hexAlphabet[b&0x0f]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// writeString writes s to h without converting it to a []byte copy.
func writeString(h hash.Hash, s string) {
	if sw, ok := h.(interface{ WriteString(string) (int, error) }); ok {
		_, _ = sw.WriteString(s)
		return
	}
	_, _ = h.Write([]byte(s))
}
