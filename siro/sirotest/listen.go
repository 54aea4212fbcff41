package sirotest

import "net"

// WithListeners serves the org host on org and the user host on user
// instead of on new loopback listeners, so the fake can run as a
// standalone server on known addresses (what "callcrm fake siro" does).
// Either may be nil for a new loopback listener. Close closes them.
func WithListeners(org, user net.Listener) Option {
	return func(s *Server) { s.orgLn, s.userLn = org, user }
}
