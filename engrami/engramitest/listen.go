package engramitest

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// WithListener serves the fake on l instead of on a new loopback
// listener, so it can run as a standalone server on a known address (what
// "callcrm fake engrami" does). Close closes it.
func WithListener(l net.Listener) Option { return func(s *Server) { s.ln = l } }

// startServer starts h on l, or on a new loopback listener when l is nil.
func startServer(h http.Handler, l net.Listener) *httptest.Server {
	if l == nil {
		return httptest.NewServer(h)
	}
	ts := httptest.NewUnstartedServer(h)
	_ = ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	return ts
}
