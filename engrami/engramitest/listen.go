package engramitest

import "net"

// WithListener serves the fake on l instead of on a new loopback
// listener, so it can run as a standalone server on a known address (what
// "callcrm fake engrami" does). Close closes it.
func WithListener(l net.Listener) Option { return func(s *Server) { s.ln = l } }
