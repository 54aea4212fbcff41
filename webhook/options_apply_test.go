package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const applySvixSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestOptionsThatCannotApplyAreRefused: every receiver takes one Option
// type, so the compiler cannot refuse an option a receiver has no use
// for; its constructor does, naming the option, as it refuses
// WithTolerance where deliveries carry no timestamp. WithKey is only
// webhook.Middleware's (a vendor derives its documented key);
// InsecureSkipTimestampCheck only skips a signed timestamp, which the
// HMAC vendors (and an HMAC verifier) do not have.
func TestOptionsThatCannotApplyAreRefused(t *testing.T) {
	key := webhook.WithKey(func(ev *webhook.Event) (string, error) { return "k", nil })
	skip := webhook.InsecureSkipTimestampCheck()
	hmac, err := webhook.NewHMAC("X-Sig", "", "s")
	require.NoError(t, err)
	type ctor struct {
		name string
		new  func(o webhook.Option) error
	}
	vendors := []ctor{
		{"siro.NewHandler", func(o webhook.Option) error {
			_, err := siro.NewHandler([]string{applySvixSecret}, siro.Callbacks{}, o)
			return err
		}},
		{"siro.Middleware", func(o webhook.Option) error { _, err := siro.Middleware([]string{applySvixSecret}, o); return err }},
		{"symbo.NewHandler", func(o webhook.Option) error {
			_, err := symbo.NewHandler([]string{"s"}, symbo.Callbacks{}, o)
			return err
		}},
		{"symbo.Middleware", func(o webhook.Option) error { _, err := symbo.Middleware([]string{"s"}, o); return err }},
		{"callsync.NewHandler", func(o webhook.Option) error {
			_, err := callsync.NewHandler([]string{"s"}, callsync.Callbacks{}, o)
			return err
		}},
		{"callsync.Middleware", func(o webhook.Option) error { _, err := callsync.Middleware([]string{"s"}, o); return err }},
		{"sivo.NewHandler", func(o webhook.Option) error {
			_, err := sivo.NewHandler([]string{"s"}, sivo.Callbacks{}, o)
			return err
		}},
		{"sivo.Middleware", func(o webhook.Option) error { _, err := sivo.Middleware([]string{"s"}, o); return err }},
	}
	for _, c := range vendors {
		err := c.new(key)
		if assert.ErrorIs(t, err, webhook.ErrInvalidOption, "%s accepted WithKey, which it ignores", c.name) {
			assert.Contains(t, err.Error(), "WithKey", c.name)
		}
	}
	hmacVendors := vendors[2:]
	hmacVendors = append(hmacVendors, ctor{"webhook.Middleware (HMAC)", func(o webhook.Option) error {
		_, err := webhook.Middleware(hmac, o)
		return err
	}})
	for _, c := range hmacVendors {
		err := c.new(skip)
		if assert.ErrorIs(t, err, webhook.ErrInvalidOption, "%s accepted InsecureSkipTimestampCheck, which it ignores", c.name) {
			assert.Contains(t, err.Error(), "InsecureSkipTimestampCheck", c.name)
		}
	}
	// Where they apply, they are taken.
	_, err = webhook.Middleware(hmac, key)
	assert.NoError(t, err, "WithKey is Middleware's")
	_, err = siro.NewHandler([]string{applySvixSecret}, siro.Callbacks{}, skip)
	assert.NoError(t, err, "Siro signs a timestamp")
}

// TestMiddlewareStandardTakesTheReceiversWindow: WithTolerance,
// InsecureSkipTimestampCheck and WithClock set a receiver's signed
// timestamp window (their docs say so), for a Standard verifier the
// caller built and gave webhook.Middleware too, not only for Siro's.
func TestMiddlewareStandardTakesTheReceiversWindow(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	signer, err := webhook.NewStandardSigner(applySvixSecret, webhook.WithSignatureClock(clk))
	require.NoError(t, err)
	std, err := webhook.NewStandard([]string{applySvixSecret}, webhook.WithSignatureClock(clk))
	require.NoError(t, err)
	body := []byte(`{"id":"evt_1"}`)
	h := http.Header{"Svix-Id": {"msg_1"}}
	require.NoError(t, signer.SignHeader(h, body))
	clk.Advance(30 * time.Minute) // outside the verifier's own 5 minutes

	serve := func(opts ...webhook.Option) int {
		mw, err := webhook.Middleware(std, opts...)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body)).WithContext(context.Background())
		for k, v := range h {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })).ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusUnauthorized, serve(webhook.WithClock(clk)), "the default window refuses a 30-minute-old delivery")
	assert.Equal(t, http.StatusNoContent, serve(webhook.WithClock(clk), webhook.WithTolerance(time.Hour)), "WithTolerance(1h) lets it through")
	assert.Equal(t, http.StatusNoContent, serve(webhook.WithClock(clk), webhook.InsecureSkipTimestampCheck()), "InsecureSkipTimestampCheck lets it through")
	assert.Equal(t, http.StatusUnauthorized, serve(webhook.WithClock(webhooktest.NewFakeClock(clk.Now().Add(2*time.Hour))), webhook.WithTolerance(time.Hour)),
		"WithClock is the clock the window reads")
}
