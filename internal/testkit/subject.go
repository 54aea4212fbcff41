package testkit

import (
	"errors"
	"net/http"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// VendorSubject completes s, a vendor's deliveries (Sign, Body, Unknown
// and its limits), into the conformance Subject of the vendor's receiver
// with one signing secret: Clock is clk, Timestamped is true, Secret is
// secret, New is newHandler([]string{secret}, callbacks(b), opts...), so
// callbacks wires the Behaviour into the vendor's typed callbacks, and
// Middleware is middleware([]string{secret}, opts...).
func VendorSubject[C any, H http.Handler](s webhooktest.Subject, secret string, clk *webhooktest.FakeClock,
	newHandler func([]string, C, ...webhook.Option) (H, error),
	middleware func([]string, ...webhook.Option) (func(http.Handler) http.Handler, error),
	callbacks func(b webhooktest.Behaviour) C) webhooktest.Subject {
	secrets := []string{secret}
	s.Clock, s.Timestamped, s.Secret = clk, true, secret
	s.New = func(b webhooktest.Behaviour, opts ...webhook.Option) (http.Handler, error) {
		h, err := newHandler(secrets, callbacks(b), opts...)
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	s.Middleware = func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
		return middleware(secrets, opts...)
	}
	return s
}

// Must returns v, and panics with err when it is not nil: for a test's
// set-up, where a failing constructor is a broken test.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// NilClock is the error of a vendor's Subject given no clock (pkg is the
// vendor's test package, "sivotest"); nil when clk is set.
func NilClock(pkg string, clk *webhooktest.FakeClock) error {
	if clk == nil {
		return errors.New(pkg + ".Subject: the clock is nil (pass webhooktest.NewFakeClock(...))")
	}
	return nil
}
