package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/callcrm/callcrm-go/internal/benchkit"
)

// benchReceive runs one 1 KiB HMAC delivery with a new id per iteration
// through a receiver in process (no network, so the engine's own cost is
// what is measured; sivo's BenchmarkReceive measures it over loopback).
func benchReceive(b *testing.B, opts ...Option) {
	v, _ := NewHMAC("X-Sig", "", "bench-secret")
	spec := Spec[any]{Provider: "acme", Verifier: v,
		Parse: func(ev *Event) (any, error) {
			ev.ID, ev.Type = ev.Header.Get("X-Id"), "call.ended"
			return nil, nil
		},
		Handle: func(context.Context, *Event, any, Once) error { return nil },
	}
	benchSpec(&spec)
	r, err := NewReceiver(spec, opts...)
	if err != nil {
		b.Fatal(err)
	}
	body := benchBody(1 << 10)
	s, _ := NewHMACSigner("X-Sig", "", "bench-secret")
	sig := s.Sign(body)
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/hook", rd)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	// CPU time per delivery: less sensitive than ns/op to other load on a
	// shared machine.
	defer benchkit.CPUPerOp(b)()
	for i := 0; b.Loop(); i++ {
		rd.Reset(body)
		req.Body = readCloser{rd}
		req.Header = http.Header{"X-Sig": {sig}, "X-Id": {strconv.Itoa(i)}}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkReceive measures the engine in process: "fixed" secrets (as
// before this change), and, in bench_source_test.go, a SecretSource and an
// Observer that does nothing.
func BenchmarkReceive(b *testing.B) {
	b.Run("fixed", func(b *testing.B) { benchReceive(b) })
	benchMore(b)
}
