package sirotest_test

import (
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// newFake starts a fake whose every request and answer is validated
// against Siro's OpenAPI documents; a violation fails t when it ends.
func newFake(t testing.TB, opts ...sirotest.Option) (*sirotest.Server, *spectest.Validator) {
	t.Helper()
	v, err := spectest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	fake := sirotest.New(append(opts, sirotest.WithMiddleware(func(h siro.Host, next http.Handler) http.Handler {
		host := spectest.Org
		if h == siro.UserAPI {
			host = spectest.User
		}
		return v.Wrap(host, spectest.RequestsAndResponses, next)
	}))...)
	t.Cleanup(func() {
		fake.Close()
		for _, msg := range v.Violations() {
			t.Errorf("Siro's OpenAPI document rejects: %s", msg)
		}
		for _, e := range v.Unmet() {
			t.Errorf("expected a violation containing %q; the validator found none", e)
		}
	})
	return fake, v
}
