package sirotest

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// WithListeners serves the org host on org and the user host on user
// instead of on new loopback listeners, so the fake can run as a
// standalone server on known addresses (what "callcrm fake siro" does).
// Either may be nil for a new loopback listener. Close closes them.
func WithListeners(org, user net.Listener) Option {
	return func(s *Server) { s.orgLn, s.userLn = org, user }
}

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
