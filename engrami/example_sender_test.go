package engrami_test

import (
	"context"
	"fmt"
	"log"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
)

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
