// Package fakeserver starts the vendors' fake servers (sirotest,
// engramitest): on a new loopback listener in tests, or on a listener the
// caller gives when a fake runs standalone ("callcrm fake VENDOR").
package fakeserver

import (
	"net"
	"net/http"
	"net/http/httptest"
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
