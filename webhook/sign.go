package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Signer adds the signature headers a vendor would send for body.
type Signer interface {
	SignHeader(h http.Header, body []byte) error
}

// HMACSigner produces prefix + hex(HMAC-SHA256(secret, body)) in a header,
// as Symbo, CallSync, SIVO and Engrami sign.
type HMACSigner struct {
	header string
	prefix string
	key    macKey
}

// NewHMACSigner returns a signer for header with an optional prefix
// ("sha256="). The secret is used as raw bytes.
func NewHMACSigner(header, prefix, secret string) (*HMACSigner, error) {
	if header == "" {
		return nil, wrap(ErrInvalidOption, "signature header name is empty")
	}
	if secret == "" {
		return nil, wrap(ErrInvalidSecret, "secret is empty")
	}
	k, err := newMACKey([]byte(secret))
	if err != nil {
		return nil, err
	}
	return &HMACSigner{header: http.CanonicalHeaderKey(header), prefix: prefix, key: k}, nil
}

// Sign returns the header value for body.
func (s *HMACSigner) Sign(body []byte) string {
	st := getMAC()
	defer putMAC(st)
	s.key.begin(st)
	st.h.Write(body)
	mac := s.key.finish(st)
	// One allocation: prefix and hex written into one buffer.
	out := make([]byte, len(s.prefix)+hex.EncodedLen(len(mac)))
	n := copy(out, s.prefix)
	hex.Encode(out[n:], mac)
	return string(out)
}

// SignHeader implements Signer.
func (s *HMACSigner) SignHeader(h http.Header, body []byte) error {
	h.Set(s.header, s.Sign(body))
	return nil
}

// StandardSigner signs like Svix / Standard Webhooks.
type StandardSigner struct {
	key   macKey
	clock clock.Clock
}

// NewStandardSigner returns a signer for a "whsec_" secret.
// WithSignatureClock sets the timestamp source.
func NewStandardSigner(secret string, opts ...VerifierOption) (*StandardSigner, error) {
	raw, err := ParseStandardSecret(secret)
	if err != nil {
		return nil, err
	}
	o := settings{clock: clock.Real{}}
	if err := apply(&o, opts); err != nil {
		return nil, err
	}
	k, err := newMACKey(raw)
	if err != nil {
		return nil, err
	}
	return &StandardSigner{key: k, clock: o.clock}, nil
}

// Sign returns "v1,<base64>" for id, timestamp and body. It refuses (with
// ErrMalformed) an empty id or one containing a dot, space or tab, which
// the verifier refuses too.
func (s *StandardSigner) Sign(id string, ts time.Time, body []byte) (string, error) {
	if err := checkMessageID(id); err != nil {
		return "", err
	}
	st := getMAC()
	defer putMAC(st)
	s.key.begin(st)
	writeSigned(st, id, strconv.FormatInt(ts.Unix(), 10), body)
	mac := s.key.finish(st)
	var out [3 + 44]byte
	copy(out[:], "v1,")
	base64.StdEncoding.Encode(out[3:], mac)
	return string(out[:]), nil
}

// SignHeader implements Signer: it sets svix-id (kept if already present,
// else a new msg_ id), svix-timestamp (now) and svix-signature.
func (s *StandardSigner) SignHeader(h http.Header, body []byte) error {
	id := h.Get("Svix-Id")
	if id == "" {
		id = NewMessageID()
		h.Set("Svix-Id", id)
	}
	ts := s.clock.Now()
	sig, err := s.Sign(id, ts, body)
	if err != nil {
		return err
	}
	h.Set("Svix-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("Svix-Signature", sig)
	return nil
}

// NewMessageID returns a random Svix-style message id ("msg_" + 26
// base32 characters).
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz"
	out := make([]byte, 0, 30)
	out = append(out, "msg_"...)
	for _, c := range b {
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	for i := 0; i < 10; i++ {
		out = append(out, alphabet[int(b[i]^b[15-i])%len(alphabet)])
	}
	return string(out)
}

// Send signs body with s and POSTs it as JSON to url with client (nil means
// http.DefaultClient). header adds extra headers (it is not modified). The
// caller closes the response body.
func Send(ctx context.Context, client *http.Client, url string, s Signer, body []byte, header http.Header) (*http.Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhook: building request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = append([]string(nil), v...)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := s.SignHeader(req.Header, body); err != nil {
		return nil, err
	}
	return client.Do(req)
}
