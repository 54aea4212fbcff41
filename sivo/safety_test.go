package sivo_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToleranceShorterThanRetryHorizonRefused: SIVO's retries keep the
// event's createdAt, so a WithTolerance shorter than its retry schedule
// would answer its late retries 401 and send them to the dead-letter
// queue. Construction refuses it, naming the option; a tolerance of the
// horizon accepts the last scheduled retry.
func TestToleranceShorterThanRetryHorizonRefused(t *testing.T) {
	// The schedule of SIVO's product page: 5 s, 30 s, 2 min, 10 min, 1 h,
	// 6 h, with up to a 10 s timeout per failed attempt.
	var waits time.Duration
	for _, w := range []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour} {
		waits += w + sivo.DeliveryTimeout
	}
	assert.Equal(t, waits, sivo.RetryHorizon)
	assert.Greater(t, sivo.DefaultDedupeTTL, sivo.RetryHorizon, "ids must be remembered past the last retry")

	for _, tol := range []time.Duration{10 * time.Minute, time.Hour, sivo.RetryHorizon - time.Second} {
		_, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithTolerance(tol))
		require.Error(t, err, "tolerance %v", tol)
		assert.ErrorIs(t, err, webhook.ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithTolerance")
		assert.Contains(t, err.Error(), "retry")
		_, err = sivo.Middleware([]string{secret}, webhook.WithTolerance(tol))
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, "Middleware, tolerance %v", tol)
	}

	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	var calls atomic.Int32
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
		CallCreated: func(context.Context, *sivo.Event) error { calls.Add(1); return nil },
	}, webhook.WithClock(clk), webhook.WithTolerance(sivo.RetryHorizon))
	require.NoError(t, err)
	s, _ := sivotest.NewSender(secret)
	last, _ := sivotest.NewEvent("evt_last_retry", sivo.EventCallCreated, clk.Now().Add(-sivo.RetryHorizon+time.Second), map[string]any{})
	assert.Equal(t, 200, s.Serve(h, last.Raw), "SIVO's last scheduled retry")
	assert.Equal(t, int32(1), calls.Load())
}

// TestRefusedDeliveryLogsEventID: a delivery refused before verification
// is logged with the X-Sivo-Event-Id it carried, as SIVO advises ("log
// X-Sivo-Event-Id to correlate with SIVO"), not with an empty delivery_id.
func TestRefusedDeliveryLogsEventID(t *testing.T) {
	var logs bytes.Buffer
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{}, webhook.WithLogger(slogTo(&logs)))
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"bad signature", map[string]string{sivo.HeaderSignature: sign(docSample + " "), sivo.HeaderEventID: "evt_badsig"}},
		{"no signature", map[string]string{sivo.HeaderEventID: "evt_nosig"}},
	} {
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rawReq(docSample, c.hdr))
		assert.Equal(t, 401, rec.Code, c.name)
		assert.Contains(t, logs.String(), "delivery_id="+c.hdr[sivo.HeaderEventID], c.name)
		assert.NotContains(t, logs.String(), `delivery_id=""`, c.name)
	}

	// An oversized header value is cut, never logged whole.
	logs.Reset()
	long := "evt_" + strings.Repeat("x", 4096)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, rawReq(docSample, map[string]string{sivo.HeaderEventID: long}))
	assert.Equal(t, 401, rec.Code)
	assert.Contains(t, logs.String(), "delivery_id=evt_xxx")
	assert.NotContains(t, logs.String(), long)
}
