package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackSecretSourcePanicAnswers5xx: the engine recovers callback,
// hook and observer panics, but a SecretSource (user code: a database
// lookup) or TenantFunc that panics is not recovered: net/http drops the
// connection, the request is in Received but in no outcome, and an
// Observer's delivery stage never ends. A source failure must answer 503
// with Retry-After (the vendor retries), like a source error.
func TestAttackSecretSourcePanicAnswers5xx(t *testing.T) {
	for name, opt := range map[string]Option{
		"source": WithSecretSource(SecretsFunc(func(context.Context, string) ([]string, error) { panic("db driver bug") }), FixedTenant("acme")),
		"tenant": WithSecretSource(SecretsFunc(func(context.Context, string) ([]string, error) { return []string{engineSecret}, nil }),
			func(*http.Request) (string, error) { panic("router bug") }),
	} {
		t.Run(name, func(t *testing.T) {
			o := &recorder{}
			r, err := NewReceiver(engineSpec(t, func(context.Context, *Event, Once) error { return nil }), opt, WithObserver(o))
			require.NoError(t, err)
			srv := httptest.NewServer(r)
			code := post(t, srv, signed(t, "/", "", "sp-1", []byte(`{}`)))
			srv.Close()
			assert.GreaterOrEqual(t, code, 500, "a panicking %s must answer 5xx, got %d (0: connection dropped)", name, code)
			st := r.Stats()
			assert.Equal(t, st.Received, sumOutcomes(st), "the request is counted by an outcome: %+v", st)
			ev := o.take()
			assert.True(t, slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "delivery<") }),
				"the delivery stage was never ended: %v", ev)
		})
	}
}
