package engrami

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// ToolOption configures NewToolHandler: WithToolTimeout,
// WithToolMaxBodyBytes, WithToolLogger and WithToolErrorHook. A tool call
// is answered inline and never deduplicated or queued, so the receivers'
// options (webhook.WithInbox, ...) are not ToolOptions and do not compile
// there.
type ToolOption func(*toolSettings) error

// toolSettings is what ToolOptions fill.
type toolSettings struct {
	timeout time.Duration
	maxBody int64
	logger  *slog.Logger
	onError func(r *http.Request, err error)
}

// WithToolTimeout bounds the tool function (default DefaultToolTimeout);
// at the deadline Engrami gets 504. It must be positive.
func WithToolTimeout(d time.Duration) ToolOption {
	return func(s *toolSettings) error {
		if d <= 0 {
			return optErr("WithToolTimeout", "%v must be positive", d)
		}
		s.timeout = d
		return nil
	}
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
	return func(s *toolSettings) error { s.logger = l; return nil }
}

// WithToolErrorHook receives every refused or failed call with its error
// (as webhook.WithErrorHook does for receivers). A panic in fn is
// recovered and logged.
func WithToolErrorHook(fn func(r *http.Request, err error)) ToolOption {
	return func(s *toolSettings) error { s.onError = fn; return nil }
}

// toolConfig applies opts.
func toolConfig(opts []ToolOption) (toolSettings, *webhook.Config, error) {
	s := toolSettings{timeout: DefaultToolTimeout, maxBody: webhook.DefaultMaxBodyBytes}
	for i, o := range opts {
		if o == nil {
			return s, nil, opterr.New("engrami", "NewToolHandler", webhook.ErrInvalidOption, "option %d is nil", i)
		}
		if err := o(&s); err != nil {
			return s, nil, err
		}
	}
	cfg, err := webhook.NewConfig(webhook.WithLogger(s.logger), webhook.WithErrorHook(s.onError))
	return s, cfg, err
}
