package siro_test

import (
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// newValidator returns a validator over Siro's OpenAPI documents (loaded
// once per test binary) whose violations fail t when it ends.
func newValidator(t testing.TB) *spectest.Validator {
	t.Helper()
	v, err := spectest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		testkit.ReportFirst(t, "Siro's OpenAPI document rejects", v.Violations())
		for _, e := range v.Unmet() {
			t.Errorf("expected a violation containing %q; the validator found none", e)
		}
	})
	return v
}

func specHost(h siro.Host) spectest.Host {
	if h == siro.UserAPI {
		return spectest.User
	}
	return spectest.Org
}

// newFake starts a sirotest fake whose every request (from the client)
// and answer (from the fake) is validated against Siro's documents.
func newFake(t testing.TB, opts ...sirotest.Option) *sirotest.Server {
	t.Helper()
	v := newValidator(t)
	fake := sirotest.New(append(opts, sirotest.WithMiddleware(func(h siro.Host, next http.Handler) http.Handler {
		return v.Wrap(specHost(h), spectest.RequestsAndResponses, next)
	}))...)
	t.Cleanup(fake.Close) // runs before the validator's check
	return fake
}
