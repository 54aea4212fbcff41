// Package endpointopt holds the options the vendors' inline HTTP endpoints
// share (engrami's tool handler, symbo's contact lookup): a timeout, a
// logger, an error hook and a secret source, each checked and set the
// same way, and the webhook.Config they make. The option types and their
// doc comments stay the vendors' own (engrami.ToolOption,
// symbo.LookupOption): each is a func(*settings) error over a settings
// struct of the vendor's that embeds Settings.
package endpointopt

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Settings is what the shared options fill.
type Settings struct {
	Timeout time.Duration
	Logger  *slog.Logger
	OnError func(r *http.Request, err error)
	Source  webhook.SecretSource
	Tenant  webhook.TenantFunc
}

// Endpoint returns s, so a vendor's settings struct embedding Settings is
// a Holder.
func (s *Settings) Endpoint() *Settings { return s }

// Holder is a vendor's settings: a pointer to a struct embedding Settings.
type Holder interface{ Endpoint() *Settings }

// SecretSource is option where of package pkg: resolve the secrets per
// request with src for the tenant tenant names; neither may be nil.
func SecretSource[S Holder](pkg, where string, src webhook.SecretSource, tenant webhook.TenantFunc) func(S) error {
	return func(s S) error {
		if src == nil || tenant == nil {
			return opterr.New(pkg, where, webhook.ErrInvalidOption, "source and tenant func must not be nil")
		}
		e := s.Endpoint()
		e.Source, e.Tenant = src, tenant
		return nil
	}
}

// Timeout is option where of package pkg: bound the endpoint's function
// by d, which must be positive.
func Timeout[S Holder](pkg, where string, d time.Duration) func(S) error {
	return func(s S) error {
		if d <= 0 {
			return opterr.New(pkg, where, webhook.ErrInvalidOption, "%v must be positive", d)
		}
		s.Endpoint().Timeout = d
		return nil
	}
}

// Logger sets the logger (nil discards).
func Logger[S Holder](l *slog.Logger) func(S) error {
	return func(s S) error { s.Endpoint().Logger = l; return nil }
}

// ErrorHook sets the hook that receives every refused or failed call.
func ErrorHook[S Holder](fn func(r *http.Request, err error)) func(S) error {
	return func(s S) error { s.Endpoint().OnError = fn; return nil }
}

// Apply applies opts to s in order (a nil option fails as
// "<pkg>: <where>: option <i> is nil", matching webhook.ErrInvalidOption;
// an option's own error is returned as it is) and returns the
// webhook.Config of the logger, error hook and secret source they set.
// An error of webhook.NewConfig is returned as it is.
func Apply[S Holder, O ~func(S) error](pkg, where string, s S, opts []O) (*webhook.Config, error) {
	for i, o := range opts {
		if o == nil {
			return nil, opterr.New(pkg, where, webhook.ErrInvalidOption, "option %d is nil", i)
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	e := s.Endpoint()
	copts := []webhook.Option{webhook.WithLogger(e.Logger), webhook.WithErrorHook(e.OnError)}
	if e.Source != nil {
		copts = append(copts, webhook.WithSecretSource(e.Source, e.Tenant))
	}
	return webhook.NewConfig(copts...)
}
