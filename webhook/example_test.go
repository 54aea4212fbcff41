package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// Verify a Standard Webhooks (Svix) delivery from any framework, before it
// parses the body.
func ExampleStandard_Verify() {
	v, err := webhook.NewStandard([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		webhook.InsecureSkipSignatureTimestamp()) // the documented vector is from 2021
	if err != nil {
		log.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	d, err := v.Verify(h, []byte(`{"test": 2432232314}`))
	fmt.Println(d.ID, err)
	// Output: msg_p5jXN8AQM9LWM0D4loKWxJek <nil>
}

// Wrap a handler with verification and dedupe; test it with the signer.
func ExampleMiddleware() {
	v, _ := webhook.NewHMAC("X-Sivo-Signature", "sha256=", "my-secret")
	seen, _ := webhook.NewMemoryDedupe(2 * time.Hour)
	mw, err := webhook.Middleware(v, webhook.WithDedupe(seen), webhook.WithKey(webhook.HeaderKey("X-Sivo-Event-Id")))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the verified raw bytes
		fmt.Println("handled", string(body))
	})))
	defer srv.Close()

	signer, _ := webhook.NewHMACSigner("X-Sivo-Signature", "sha256=", "my-secret")
	for i := 0; i < 2; i++ { // the second delivery is a duplicate
		resp, err := webhook.Send(context.Background(), srv.Client(), srv.URL, signer,
			[]byte(`{"id":"evt_1"}`), http.Header{"X-Sivo-Event-Id": {"evt_1"}})
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	forged, _ := http.Post(srv.URL, "application/json", strings.NewReader(`{"id":"evt_2"}`))
	forged.Body.Close()
	fmt.Println(forged.StatusCode)
	// Output:
	// handled {"id":"evt_1"}
	// 200
	// 200
	// 401
}

// ExampleTenantFrom: a callback (or Symbo's lookup function, or an
// Engrami tool) behind WithSecretSource reads the account the delivery
// was addressed to. ContextWithTenant builds such a context for a test of
// your own function.
func ExampleTenantFrom() {
	handle := func(ctx context.Context) {
		if tenant, ok := webhook.TenantFrom(ctx); ok {
			fmt.Println("delivery for", tenant)
		}
	}
	handle(webhook.ContextWithTenant(context.Background(), "acme"))
	// Output: delivery for acme
}
