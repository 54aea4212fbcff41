package engrami_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
)

// Register a tool, then serve its endpoint in your CRM.
func ExampleNewToolHandler() {
	type params struct {
		Identifier string `json:"identifier" required:"true"`
	}
	type customer struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	h, err := engrami.NewToolHandler("crm-api-key", func(ctx context.Context, p params) (customer, error) {
		return customer{Name: "John Smith", Status: "active"}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req := httptest.NewRequest("POST", "/", strings.NewReader(`{"identifier":"john@acme.com"}`))
	req.Header.Set("Authorization", "Bearer crm-api-key")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"name":"John Smith","status":"active"}
}

// Create a tool and test it through the API.
func ExampleClient_CreateTool() {
	fake := engramitest.New() // in production: engrami.NewClient(engrami.WithToken(os.Getenv("ENGRAMI_TOKEN")))
	defer fake.Close()
	c, _ := engrami.NewClient(engrami.WithToken(fake.Token), engrami.WithBaseURL(fake.BaseURL()))
	tool := &engrami.Tool{Name: "lookup_customer", Description: "Look up a customer",
		Parameters: &engrami.JSONSchema{Type: "object", Required: []string{"identifier"},
			Properties: map[string]*engrami.JSONSchema{"identifier": {Type: "string"}}},
		Endpoint: engrami.Endpoint{URL: "https://crm.example.com/tools/lookup", Method: "POST",
			Headers: map[string]string{"Authorization": "Bearer {{secrets.CRM_API_KEY}}"}}}
	if _, err := c.CreateTool(context.Background(), tool); err != nil {
		log.Fatal(err)
	}
	res, err := c.TestTool(context.Background(), "lookup_customer", map[string]any{"identifier": "test@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Success, res.ResponseTimeMS)
	// Output: true 234
}

// Check what Engrami will send, offline.
func ExampleTool_Preview() {
	tool := &engrami.Tool{Name: "lookup_customer", Endpoint: engrami.Endpoint{URL: "https://crm.example.com/lookup", Method: "post",
		Headers:      map[string]string{"Authorization": "Bearer {{secrets.CRM_API_KEY}}"},
		BodyTemplate: map[string]any{"query": "{{identifier}}"}}}
	req, err := tool.Preview(map[string]any{"identifier": "john@acme.com"}, map[string]string{"CRM_API_KEY": "sk_test"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Method, req.URL, req.Headers["Authorization"], req.Body["query"])
	// Output: POST https://crm.example.com/lookup Bearer sk_test john@acme.com
}

// Send a CRM event to an Engrami agent through an incoming webhook, signed.
func ExampleSender_Send() {
	ctx := context.Background()
	fake := engramitest.New() // in production: engrami.NewClient with your API key
	defer fake.Close()
	c, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	hook, err := c.CreateIncomingWebhook(ctx, &engrami.IncomingWebhookParams{Name: "CRM leads", AgentID: "agent_sales",
		Transform: engrami.Transform{Message: "$.data.description"}})
	if err != nil {
		log.Fatal(err)
	}

	s, err := engrami.NewSender(hook.URL, hook.Secret) // keep both in your secret store
	if err != nil {
		log.Fatal(err)
	}
	type lead struct {
		ID          string `json:"id"`
		Description string `json:"description"`
	}
	if err := s.Send(ctx, map[string]any{"data": lead{ID: "lead-7", Description: "Kitchen remodel, budget 25k"}}); err != nil {
		log.Fatal(err) // a 4xx, or the retries ran out
	}
	for _, body := range fake.Received(hook.ID) {
		fmt.Println(string(body))
	}
	// Output:
	// {"data":{"id":"lead-7","description":"Kitchen remodel, budget 25k"}}
}
