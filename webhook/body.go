package webhook

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"
)

// DefaultMaxBodyBytes bounds a webhook body (after decoding) unless the
// vendor or WithMaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// DefaultReadTimeout bounds how long a body may take to arrive.
const DefaultReadTimeout = 10 * time.Second

// initialBodyBuffer is the most a read allocates before bytes arrive: the
// announced Content-Length is a claim by an unverified client, so it never
// sizes more than this up front.
const initialBodyBuffer = 16 << 10

// ReadBody reads r.Body bounded by limit and by readTimeout (0: no read
// deadline). The buffer grows with the bytes that really arrive; the
// Content-Length header is only used to refuse early, never to allocate.
// A body with Content-Encoding gzip is decoded, and limit bounds the
// decoded size too; any other encoding is ErrUnsupportedEncoding (415).
// Errors wrap ErrPayloadTooLarge (413), ErrReadTimeout (408) or
// ErrMalformed (400).
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, readTimeout time.Duration) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	limit = min(limit, math.MaxInt64-1) // limit+1 is read to see the end
	if r.ContentLength > limit {
		return nil, wrap(ErrPayloadTooLarge, "content length %d exceeds %d bytes", r.ContentLength, limit)
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" && enc != "x-gzip" {
		return nil, wrap(ErrUnsupportedEncoding, "content encoding %.40q", enc)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if readTimeout > 0 && w != nil {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(readTimeout)) == nil {
			defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
		}
	}
	// readCapped reads at most limit+1 bytes. A body of unknown length
	// also goes through http.MaxBytesReader, so that the server closes
	// the connection rather than drain a body too large; one whose
	// announced length is within limit cannot be (the server ends it
	// there), so it needs no wrapper.
	src := r.Body
	if w != nil {
		if r.ContentLength < 0 {
			src = http.MaxBytesReader(w, r.Body, limit)
		}
		defer src.Close()
	}
	raw, err := readCapped(src, r.ContentLength, limit)
	if err != nil {
		return nil, err
	}
	if enc == "gzip" || enc == "x-gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, wrap(ErrMalformed, "gzip body: %v", err)
		}
		defer zr.Close()
		dec, err := readCapped(io.LimitReader(zr, limit+1), -1, limit)
		if err != nil {
			if errors.Is(err, ErrPayloadTooLarge) {
				return nil, wrap(ErrPayloadTooLarge, "decoded body exceeds %d bytes", limit)
			}
			return nil, err
		}
		raw = dec
	}
	return raw, nil
}

// readCapped reads src, up to limit+1 bytes, into a buffer that starts at
// most initialBodyBuffer bytes large and grows as data arrives. A body of
// its announced length fills the first buffer exactly (one byte is left to
// see the end), so it is read without growing.
func readCapped(src io.Reader, announced, limit int64) ([]byte, error) {
	n := int64(512)
	if announced > 0 {
		n = min(announced+1, limit+1, initialBodyBuffer)
	}
	buf := make([]byte, 0, n)
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := src.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err, limit)
		}
	}
	if int64(len(buf)) > limit {
		return nil, wrap(ErrPayloadTooLarge, "body exceeds %d bytes", limit)
	}
	return buf, nil
}

// readError names why reading a body failed.
func readError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return wrap(ErrPayloadTooLarge, "body exceeds %d bytes", limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return wrap(ErrReadTimeout, "body not received in time")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return wrap(ErrMalformed, "gzip body: %v", err)
	}
	return wrap(ErrMalformed, "reading body: %v", err)
}
