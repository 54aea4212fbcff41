package engrami_test

import (
	"context"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTestToolErrorEnvelopeIsAnError: the API overview's error envelope
// {"success": false, "error": {"code", "message"}} is an *Error from
// TestTool whatever the status, as from every other call; only the test
// result's own "success" (the tool call's outcome) is a result field.
func TestTestToolErrorEnvelopeIsAnError(t *testing.T) {
	ctx := context.Background()
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client(engrami.WithRetry(engrami.RetryPolicy{}))
	require.NoError(t, err)
	_, err = c.CreateTool(ctx, &engrami.Tool{Name: "lookup", Description: "d", Parameters: &engrami.JSONSchema{Type: "object"},
		Endpoint: engrami.Endpoint{URL: "https://x", Method: "POST"}})
	require.NoError(t, err)

	fake.Fail("POST /api/v1/tools/lookup/test", 200, 1) // the envelope in a 200
	res, err := c.TestTool(ctx, "lookup", map[string]any{"q": 1})
	var e *engrami.Error
	require.ErrorAs(t, err, &e, "result %+v", res)
	assert.Equal(t, "internal_error", e.Code)
	assert.Nil(t, res)

	fake.Fail("POST /api/v1/tools/lookup/test", 404, 1)
	_, err = c.TestTool(ctx, "lookup", nil)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 404, e.StatusCode)

	// The next answer is the result again.
	res, err = c.TestTool(ctx, "lookup", nil)
	require.NoError(t, err)
	assert.True(t, res.Success)
}
