package engrami_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/webhook"
)

// Serve one tool for several tenants, each with its own rotating bearer
// secrets read per call.
func ExampleWithToolSecretSource() {
	secrets := map[string][]string{"acme": {"acme-new", "acme-old"}} // rotating: both accepted
	src := webhook.SecretsFunc(func(ctx context.Context, tenant string) ([]string, error) {
		s, ok := secrets[tenant]
		if !ok {
			return nil, webhook.ErrUnknownTenant
		}
		return s, nil
	})
	h, err := engrami.NewToolHandler("", func(ctx context.Context, p struct{}) (string, error) { return "ok", nil },
		engrami.WithToolSecretSource(src, webhook.TenantFromPath("tenant")))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/engrami/{tenant}/tools/ping", h)
	for _, c := range []struct{ path, secret string }{
		{"/engrami/acme/tools/ping", "acme-old"},
		{"/engrami/acme/tools/ping", "acme-new"},
		{"/engrami/acme/tools/ping", "wrong"},
		{"/engrami/initech/tools/ping", "acme-new"},
	} {
		req := httptest.NewRequest("POST", c.path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+c.secret)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 200
	// 200
	// 401
	// 404
}
