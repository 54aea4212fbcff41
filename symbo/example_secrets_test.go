package symbo_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// Serve the contact lookup of several Symbo accounts on one endpoint, each
// account's secrets read per request (from your database in real life).
func ExampleWithLookupSecretSource() {
	secrets := map[string][]string{"acme": {"acme-secret"}, "globex": {"globex-secret"}}
	src := webhook.SecretsFunc(func(ctx context.Context, account string) ([]string, error) {
		s, ok := secrets[account]
		if !ok {
			return nil, webhook.ErrUnknownTenant // 404
		}
		return s, nil
	})
	h, err := symbo.NewLookupHandler(nil, func(ctx context.Context, number string) (*symbo.Contact, error) {
		return &symbo.Contact{ExternalID: "12345", FirstName: "Sally"}, nil
	}, symbo.WithLookupSecretSource(src, webhook.TenantFromPath("account")))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /symbo/{account}/lookup", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	acme, _ := symbotest.NewDialer("acme-secret")
	code, _, _ := acme.Lookup(context.Background(), srv.URL+"/symbo/acme/lookup", "+18005551212")
	fmt.Println(code)
	code, _, _ = acme.Lookup(context.Background(), srv.URL+"/symbo/globex/lookup", "+18005551212") // another account's URL
	fmt.Println(code)
	code, _, _ = acme.Lookup(context.Background(), srv.URL+"/symbo/initech/lookup", "+18005551212")
	fmt.Println(code)
	// Output:
	// 200
	// 401
	// 404
}
