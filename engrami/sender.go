package engrami

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/callcrm/callcrm-go/internal/core"
	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Header names of a delivery to an incoming webhook.
const (
	HeaderSignature = "X-Webhook-Signature"
	SignaturePrefix = "sha256="
)

// Sender POSTs events to an Engrami incoming webhook, signed as
// X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
//
// Key handling: Engrami does not document whether the "whsec_" prefix is
// part of the key. The Sender uses the secret exactly as Engrami returned
// it, prefix included, as the HMAC key bytes (the same choice its generic
// webhook samples make); use WithSecretPrefixStripped if your endpoint
// rejects that. The secret never appears in logs or errors.
type Sender struct {
	core   *core.Client
	path   string
	signer *webhook.HMACSigner // nil with WithSenderSecretSource
	unsafe bool
	source webhook.SecretSource
	tenant string
	strip  bool
}

// SenderOption configures a Sender.
type SenderOption func(*senderConfig) error

type senderConfig struct {
	hc          *http.Client
	logger      *slog.Logger
	retry       *core.RetryPolicy
	clock       webhook.Clock
	stripPrefix bool
	unsafe      bool
	source      webhook.SecretSource
	tenant      string
}

// WithSenderSecretSource resolves the signing secret on every send:
// src.Secrets(ctx, tenant) is called with Send's context and the FIRST
// secret it returns signs the delivery. During a rotation, keep the old
// secret first until Engrami accepts the new one, then put the new one
// first (and later drop the old). A source error, or an empty list, fails
// the send with an error wrapping webhook.ErrSecretSource, and nothing is
// sent unsigned. NewSender's secret must then be empty.
func WithSenderSecretSource(src webhook.SecretSource, tenant string) SenderOption {
	return func(c *senderConfig) error {
		if src == nil {
			return optErr("WithSenderSecretSource", "source is nil")
		}
		c.source, c.tenant = src, tenant
		return nil
	}
}

// WithSenderHTTPClient sets the HTTP client.
func WithSenderHTTPClient(hc *http.Client) SenderOption {
	return func(c *senderConfig) error { c.hc = hc; return nil }
}

// WithSenderLogger logs deliveries at debug level (signature redacted).
func WithSenderLogger(l *slog.Logger) SenderOption {
	return func(c *senderConfig) error { c.logger = l; return nil }
}

// WithSenderRetry sets the retry policy, filled from DefaultRetry as
// WithRetry's is. By default only deliveries that provably did not reach
// Engrami are retried (see Send).
func WithSenderRetry(p RetryPolicy) SenderOption {
	return func(c *senderConfig) error {
		cp, err := p.internal("WithSenderRetry")
		if err != nil {
			return err
		}
		c.retry = cp
		return nil
	}
}

// WithSenderRetryUnsafe also retries deliveries that may have reached
// Engrami (a timeout, a reset connection, a 5xx): Engrami documents no
// idempotency, so such a retry can start the agent twice. Each attempt
// carries the same Idempotency-Key.
func WithSenderRetryUnsafe() SenderOption {
	return func(c *senderConfig) error { c.unsafe = true; return nil }
}

// WithSenderClock sets the backoff clock (tests).
func WithSenderClock(clk webhook.Clock) SenderOption {
	return func(c *senderConfig) error {
		if clk == nil {
			return optErr("WithSenderClock", "clock is nil")
		}
		c.clock = clk
		return nil
	}
}

// WithSecretPrefixStripped keys the HMAC with the secret minus "whsec_".
func WithSecretPrefixStripped() SenderOption {
	return func(c *senderConfig) error { c.stripPrefix = true; return nil }
}

// NewSender returns a Sender for an incoming webhook's url and secret.
func NewSender(hookURL, secret string, opts ...SenderOption) (*Sender, error) {
	var c senderConfig
	for i, o := range opts {
		if o == nil {
			return nil, optErr("NewSender", "option %d is nil", i)
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(hookURL)
	if err != nil || u.Host == "" {
		return nil, optErr("NewSender", "hookURL is not an absolute URL")
	}
	var signer *webhook.HMACSigner
	switch {
	case c.source != nil && secret != "":
		return nil, optErr("NewSender", "give a secret or WithSenderSecretSource, not both")
	case c.source == nil:
		key := secret
		if c.stripPrefix {
			key = strings.TrimPrefix(secret, "whsec_")
		}
		if signer, err = webhook.NewHMACSigner(HeaderSignature, SignaturePrefix, key); err != nil {
			return nil, opterr.Rewrap("engrami", "NewSender", err, 1)
		}
	}
	base := *u
	base.Path, base.RawPath = "", ""
	cc, err := core.New(core.Config{Provider: "engrami", BaseURL: base.String(), HTTPClient: c.hc, Logger: c.logger, Retry: c.retry, Clock: c.clock})
	if err != nil {
		return nil, rePrefix("NewSender", err)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return &Sender{core: cc, path: path, signer: signer, unsafe: c.unsafe, source: c.source, tenant: c.tenant, strip: c.stripPrefix}, nil
}

// Sign returns the X-Webhook-Signature value for body. With
// WithSenderSecretSource it asks the source with context.Background() and
// returns "" if the source fails; use SignContext to see the error.
func (s *Sender) Sign(body []byte) string {
	sig, _ := s.SignContext(context.Background(), body)
	return sig
}

// SignContext returns the X-Webhook-Signature value for body, resolving
// the secret from WithSenderSecretSource's source with ctx when given. An
// error wraps webhook.ErrSecretSource and never holds a secret.
func (s *Sender) SignContext(ctx context.Context, body []byte) (string, error) {
	if s.source == nil {
		return s.signer.Sign(body), nil
	}
	secrets, err := s.source.Secrets(ctx, s.tenant)
	switch {
	case err != nil:
		return "", fmt.Errorf("engrami: %w: tenant %q: %w", webhook.ErrSecretSource, s.tenant, err)
	case len(secrets) == 0 || secrets[0] == "":
		return "", fmt.Errorf("engrami: %w: tenant %q: no signing secret", webhook.ErrSecretSource, s.tenant)
	}
	key := secrets[0]
	if s.strip {
		key = strings.TrimPrefix(key, "whsec_")
	}
	signer, err := webhook.NewHMACSigner(HeaderSignature, SignaturePrefix, key)
	if err != nil {
		// the secret's own error is dropped: it may describe the secret
		return "", fmt.Errorf("engrami: %w: tenant %q: the first secret cannot key an HMAC", webhook.ErrSecretSource, s.tenant)
	}
	return signer.Sign(body), nil
}

// Send marshals event to JSON, signs it and POSTs it. Engrami documents no
// idempotency for incoming webhooks, so only a delivery that provably did
// not reach it is retried with backoff: a connection that could not be
// opened, a 429, or a 503 with Retry-After (WithSenderRetryUnsafe retries
// timeouts, resets and other 5xx too). Each attempt carries the same body,
// signature and Idempotency-Key.
func (s *Sender) Send(ctx context.Context, event any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("engrami: encoding event: %w", err)
	}
	return s.SendRaw(ctx, body)
}

// SendRaw signs and POSTs body as is.
func (s *Sender) SendRaw(ctx context.Context, body []byte) error {
	sig, err := s.SignContext(ctx, body)
	if err != nil {
		return err // never sent unsigned
	}
	h := http.Header{}
	h.Set(HeaderSignature, sig)
	_, err = s.core.Do(ctx, &core.Request{Operation: "IncomingWebhook.Send", Method: http.MethodPost, Route: s.path,
		Body: json.RawMessage(body), Header: h, NoAuth: true, IdempotencyKey: webhook.NewMessageID(), RetryUndeliveredOnly: !s.unsafe}, nil)
	return publicError(err)
}
