package sirotest

import (
	"crypto/sha256"
	"encoding/base32"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Schedule is when Svix, through which Siro delivers its webhooks,
// attempts a message: immediately, then after 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h and 10 h (Svix's published schedule, about 28 hours in all;
// Siro documents none of its own).
//
// Schedule is for reading: NewSender and Server.Sender replay their own
// copy of Svix's schedule, so changing this slice changes no Sender
// (build one with webhooktest.NewSender for another schedule), as with
// sivotest.Schedule.
var Schedule = slices.Clone(schedule)

// schedule is Svix's schedule as the Senders replay it, out of reach of
// the tests that share the exported Schedule.
var schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// NewSender returns a Sender for a Siro endpoint's "whsec_" secret: it
// sets svix-id, svix-timestamp (now), svix-signature and Content-Type, and
// replays Schedule. The svix-id is derived from the body, so sending the
// same body again, to the same receiver or to another replica, is the same
// Svix message redelivered, as Svix does on a retry; to send two messages
// with identical bodies, set a different svix-id on the Request.
func NewSender(secret string) (*webhooktest.Sender, error) {
	return newSender(secret, clock.Real{})
}

// Sender returns a Sender signing with the fake's WebhookSecret and
// clock, as DeliverWebhooks does.
func (s *Server) Sender() *webhooktest.Sender {
	snd, _ := newSender(s.WebhookSecret, s.clock) // the secret was checked by New
	return snd
}

func newSender(secret string, clk webhook.Clock) (*webhooktest.Sender, error) {
	signer, err := webhook.NewStandardSigner(secret, webhook.WithSignatureClock(clk))
	if err != nil {
		return nil, err
	}
	return webhooktest.NewSender(func(h http.Header, body []byte) error {
		if h.Get("Svix-Id") == "" {
			h.Set("Svix-Id", MessageID(body))
		}
		return signer.SignHeader(h, body)
	}, "/webhooks/siro", schedule), nil
}

// MessageID is the svix-id a Sender gives body: "msg_" and 26 base32
// characters of its SHA-256.
func MessageID(body []byte) string {
	sum := sha256.Sum256(body)
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])[:26])
}
