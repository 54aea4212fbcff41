package engrami

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/endpointopt"
	"github.com/callcrm/callcrm-go/webhook"
)

// ToolOption configures NewToolHandler: WithToolTimeout,
// WithToolMaxBodyBytes, WithToolLogger, WithToolErrorHook and
// WithToolSecretSource. A tool call
// is answered inline and never deduplicated or queued, so the receivers'
// options (webhook.WithInbox, ...) are not ToolOptions and do not compile
// there.
type ToolOption func(*toolSettings) error

// toolSettings is what ToolOptions fill.
type toolSettings struct {
	endpointopt.Settings // timeout, logger, error hook, secret source
	maxBody              int64
}

// WithToolSecretSource makes the tool handler resolve its accepted
// secrets per call, as webhook.WithSecretSource does for the receivers:
// tenant names the tenant from what you configured
// (webhook.TenantFromPath("tenant") for a handler mounted on
// "/engrami/{tenant}/tools/...", or webhook.FixedTenant), never from a
// header or the body; src returns every secret of that tenant that is
// accepted now. "Authorization: Bearer <s>" authenticates when s is any
// of them (each compared in constant time), so during a rotation old and
// new both work and a removed one stops on the next call. The result is
// cached per tenant and secret list. An unknown tenant answers 404; a
// failing source answers 503 with Retry-After (never 401). The tool
// function reads the tenant with webhook.TenantFrom(ctx).
// NewToolHandler's fixed secret may then be empty; if both are given, the
// source wins.
func WithToolSecretSource(src webhook.SecretSource, tenant webhook.TenantFunc) ToolOption {
	return endpointopt.SecretSource[*toolSettings]("engrami", "WithToolSecretSource", src, tenant)
}

// WithToolTimeout bounds the tool function (default DefaultToolTimeout);
// at the deadline Engrami gets 504. It must be positive.
func WithToolTimeout(d time.Duration) ToolOption {
	return endpointopt.Timeout[*toolSettings]("engrami", "WithToolTimeout", d)
}

// WithToolMaxBodyBytes limits the request body (default
// webhook.DefaultMaxBodyBytes, 1 MiB); a larger one is answered 413. It
// must be positive.
func WithToolMaxBodyBytes(n int64) ToolOption {
	return func(s *toolSettings) error {
		if n <= 0 {
			return optErr("WithToolMaxBodyBytes", "%d must be positive", n)
		}
		s.maxBody = n
		return nil
	}
}

// WithToolLogger logs one line per refused or failed call with the keys
// every receiver uses (provider, delivery_id, event, status, error; see
// webhook.WithLogger); never the secret. nil discards.
func WithToolLogger(l *slog.Logger) ToolOption {
	return endpointopt.Logger[*toolSettings](l)
}

// WithToolErrorHook receives every refused or failed call with its error
// (as webhook.WithErrorHook does for receivers). A panic in fn is
// recovered and logged.
func WithToolErrorHook(fn func(r *http.Request, err error)) ToolOption {
	return endpointopt.ErrorHook[*toolSettings](fn)
}

// toolConfig applies opts.
func toolConfig(opts []ToolOption) (toolSettings, *webhook.Config, error) {
	s := toolSettings{Settings: endpointopt.Settings{Timeout: DefaultToolTimeout}, maxBody: webhook.DefaultMaxBodyBytes}
	cfg, err := endpointopt.Apply("engrami", "NewToolHandler", &s, opts)
	return s, cfg, err
}

// bearer verifies "Authorization: Bearer <secret>" against every accepted
// secret in constant time. It holds secrets: it never prints them.
type bearer struct{ want [][]byte }

// newBearer builds a bearer check from the accepted secrets.
func newBearer(secrets []string) (webhook.Verifier, error) {
	b := &bearer{want: make([][]byte, 0, len(secrets))}
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("%w: secret %d is empty", webhook.ErrInvalidSecret, i)
		}
		b.want = append(b.want, []byte("Bearer "+s))
	}
	return b, nil
}

// Verify checks the Authorization header; body is not signed.
func (b *bearer) Verify(h http.Header, _ []byte) (webhook.Delivery, error) {
	got := []byte(h.Get("Authorization"))
	ok := 0
	for _, w := range b.want {
		ok |= subtle.ConstantTimeCompare(got, w) // no early exit
	}
	if ok != 1 {
		return webhook.Delivery{}, fmt.Errorf("%w: missing or wrong bearer token", webhook.ErrNoMatchingSignature)
	}
	return webhook.Delivery{}, nil
}

// String redacts the secrets for every verb of fmt.
func (b *bearer) String() string { return "engrami.bearer{[redacted]}" }

// GoString is String.
func (b *bearer) GoString() string { return b.String() }

// Format prints String for every verb.
func (b *bearer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, b.String()) }
