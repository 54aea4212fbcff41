package engramitest_test

import (
	"context"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewSenderIsTheSenderEveryFakeReturns: engramitest has a NewSender
// returning the *webhooktest.Sender every vendor's test package returns
// (webhooktest.Sender's doc names it among the five), signing as
// engrami.Sender does, so the fake's incoming-webhook URL takes its
// deliveries and refuses a tampered one.
func TestNewSenderIsTheSenderEveryFakeReturns(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client()
	require.NoError(t, err)
	ctx := context.Background()
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "n", AgentID: "a",
		Transform: engrami.Transform{Message: "$.m"}})
	require.NoError(t, err)

	snd, err := engramitest.NewSender(hook.Secret)
	require.NoError(t, err)
	body := []byte(`{"m":"hello"}`)
	sdk, err := engrami.NewSender(hook.URL, hook.Secret)
	require.NoError(t, err)
	assert.Equal(t, sdk.Sign(body), snd.Sign(body).Get(engrami.HeaderSignature), "signed as engrami.Sender signs")
	assert.Equal(t, "application/json", snd.Sign(body).Get("Content-Type"))

	code, err := snd.Deliver(ctx, hook.URL, body)
	require.NoError(t, err)
	assert.Less(t, code, 300)
	assert.Equal(t, [][]byte{body}, fake.Received(hook.ID))

	other, err := engramitest.NewSender("whsec_other")
	require.NoError(t, err)
	code, err = other.Deliver(ctx, hook.URL, body)
	require.NoError(t, err)
	assert.Equal(t, 401, code, "another secret's signature is refused")
	assert.Len(t, snd.Schedule(), 1)
}
