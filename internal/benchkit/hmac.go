package benchkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// ValidHexHMAC is what a careful hand-written handler checks for the
// common scheme: header holds prefix and the hex HMAC-SHA256 of body
// under key, compared in constant time.
func ValidHexHMAC(r *http.Request, header, prefix string, key, body []byte) bool {
	v := r.Header.Get(header)
	if len(v) < len(prefix) || v[:len(prefix)] != prefix {
		return false
	}
	got, err := hex.DecodeString(v[len(prefix):])
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return err == nil && hmac.Equal(got, m.Sum(nil))
}
