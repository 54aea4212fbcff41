package engramitest

import (
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// NewSender returns a Sender for an Engrami incoming webhook's secret
// (IncomingWebhook.Secret), the same Sender every vendor's test package
// returns: it sets X-Webhook-Signature ("sha256=" and the hex
// HMAC-SHA256 of the raw body, keyed with the secret as Engrami returned
// it, as engrami.NewSender keys it by default) and Content-Type, so a
// test can deliver to the Server's incoming-webhook URLs (Deliver) or to
// a handler of its own (Serve). engrami.Sender retries with backoff,
// not on a schedule, so Replay makes one attempt.
func NewSender(secret string) (*webhooktest.Sender, error) {
	s, err := webhook.NewHMACSigner(engrami.HeaderSignature, engrami.SignaturePrefix, secret)
	if err != nil {
		return nil, err
	}
	return webhooktest.NewSender(s.SignHeader, "/in/wh_test", []time.Duration{0}), nil
}
