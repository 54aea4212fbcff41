package webhook

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadBodyBounded: a body within its announced length is read whole
// without a MaxBytesReader, and a body longer than limit is refused after
// at most limit+1 bytes, whatever the request announced (a handler called
// directly, not behind net/http's server, gets no length enforcement from
// the server).
func TestReadBodyBounded(t *testing.T) {
	const limit = 1 << 10
	for _, tc := range []struct {
		name     string
		size     int
		announce int64
		tooLarge bool
	}{
		{"within", limit, limit, false},
		{"announced-short", 64 << 10, 10, true},
		{"unknown-length", 64 << 10, -1, true},
		{"unknown-length-within", 100, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), tc.size))}
			req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(body))
			req.ContentLength = tc.announce
			got, err := ReadBody(httptest.NewRecorder(), req, limit, 0)
			if tc.tooLarge {
				if !errors.Is(err, ErrPayloadTooLarge) {
					t.Fatalf("err = %v, want ErrPayloadTooLarge", err)
				}
				if body.n > limit+1 {
					t.Fatalf("read %d bytes of a body over the %d limit", body.n, limit)
				}
				return
			}
			if err != nil || len(got) != tc.size {
				t.Fatalf("got %d bytes, %v; want %d", len(got), err, tc.size)
			}
		})
	}
}

// TestReadBodyLargestLimit: the largest limit (WithMaxBodyBytes accepts any
// positive size) reads a body of known or unknown length, with or without
// a ResponseWriter, instead of overflowing limit+1.
func TestReadBodyLargestLimit(t *testing.T) {
	for _, announce := range []int64{-1, 7} {
		for _, w := range []http.ResponseWriter{nil, httptest.NewRecorder()} {
			req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(bytes.NewReader([]byte(`{"a":1}`))))
			req.ContentLength = announce
			got, err := ReadBody(w, req, math.MaxInt64, 0)
			if err != nil || string(got) != `{"a":1}` {
				t.Fatalf("announced %d, writer %T: got %q, %v", announce, w, got, err)
			}
		}
	}
}
