package engramitest_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNullInsideAStringFieldIs400: an array of strings or an object of
// strings holding a null is not of the type the page shows; encoding/json
// decodes a null into a string as nothing, so the fake accepted
// ["read", null] as scopes and {"A": null} as headers.
func TestNullInsideAStringFieldIs400(t *testing.T) {
	for _, c := range []struct{ path, body, field string }{
		{"/integrations/oauth/providers", `{` + goodProvider + `,"scopes":["read",null]}`, "scopes"},
		{"/tools", `{"name":"t","description":"d","parameters":{},"endpoint":{"url":"u","method":"POST","headers":{"A":null}}}`, "endpoint.headers"},
		{"/webhooks/incoming", `{"name":"n","agent_id":"a","transform":{"message":"$.x","metadata":{"id":null}}}`, "transform.metadata"},
		{"/integrations/actions", `{` + goodAction + `,"output_mapping":{"id":null}}`, "output_mapping"},
	} {
		t.Run(c.field, func(t *testing.T) {
			fake := engramitest.New()
			defer fake.Close()
			st, _, b := send(t, fake, "POST", "/api/v1"+c.path, fake.Token, c.body)
			require.Equal(t, 400, st, string(b))
			code, details := apiError(t, b)
			assert.Equal(t, "invalid_request", code)
			assert.Equal(t, c.field, details["field"])
			assert.Equal(t, "invalid_type", details["reason"])
		})
	}
}
