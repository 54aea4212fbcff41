// Package fakeserver starts the vendors' fake servers (sirotest,
// engramitest): on a new loopback listener in tests, or on a listener the
// caller gives when a fake runs standalone ("callcrm fake VENDOR").
package fakeserver

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Start serves h on l, or on a new loopback listener when l is nil.
// Closing the returned server closes l.
func Start(h http.Handler, l net.Listener) *httptest.Server {
	if l == nil {
		return httptest.NewServer(h)
	}
	ts := httptest.NewUnstartedServer(h)
	_ = ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	return ts
}

// ReadAhead reads up to limit bytes of r's body into memory before a
// Delay, leaving r.Body reading the same bytes: net/http notices a client
// that left (and ends r's context) only once the body is read to its end.
func ReadAhead(r *http.Request, limit int64) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), errReader{err}, r.Body), r.Body}
}

// errReader returns err (a read error met reading ahead), or EOF.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// Delay waits d (a fake's WithLatency), or until ctx ends (the client
// left; httptest.Server.Close does not end it, it waits), and reports
// whether the full d passed; a handler that gets false returns without
// answering. net/http ends a request's context when its client leaves
// only once the body is read: ReadAhead first.
func Delay(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
