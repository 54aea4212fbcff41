package webhook

import (
	"crypto/sha256"
	"encoding"
	"fmt"
	"hash"
	"sync"
)

// macKey is an HMAC-SHA256 key with its inner and outer pad states
// precomputed, so each verification hashes only the message (RFC 2104).
type macKey struct {
	inner, outer []byte // marshalled sha256 states after absorbing ipad/opad
}

type macState struct {
	h     hash.Hash
	inner [sha256.Size]byte
	sum   [sha256.Size]byte
	sig   [64]byte  // decoded signature scratch
	text  [128]byte // encoded signature / "id.ts." scratch
}

var macPool = sync.Pool{New: func() any { return &macState{h: sha256.New()} }}

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
	return macKey{inner: inner, outer: outer}, nil
}

// begin resets st.h to the inner state; the caller writes the message.
func (k *macKey) begin(st *macState) {
	_ = st.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.inner)
}

// finish completes the MAC into st.sum.
func (k *macKey) finish(st *macState) []byte {
	in := st.h.Sum(st.inner[:0])
	_ = st.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.outer)
	st.h.Write(in)
	return st.h.Sum(st.sum[:0])
}

// writeString writes s to h without converting it to a []byte copy.
func writeString(h hash.Hash, s string) {
	if sw, ok := h.(interface{ WriteString(string) (int, error) }); ok {
		_, _ = sw.WriteString(s)
		return
	}
	_, _ = h.Write([]byte(s))
}
