// Package fakeserver starts the vendors' fake servers (sirotest,
// engramitest): on a new loopback listener in tests, or on a listener the
// caller gives when a fake runs standalone ("callcrm fake VENDOR").
package fakeserver

import (
	"context"
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

// Delay waits d (a fake's WithLatency), or until ctx ends (the client
// left, or the fake closed), and reports whether the full d passed; a
// handler that gets false returns without answering.
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
