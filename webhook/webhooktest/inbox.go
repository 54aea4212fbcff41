package webhooktest

import (
	"context"
	"sync"

	"github.com/callcrm/callcrm-go/webhook"
)

// CaptureInbox is a webhook.Inbox that keeps what receivers enqueue
// instead of running it, so a test can see exactly what an inbox would
// store (the event, its kept headers, its tenant and trace). Safe for
// concurrent use; the zero value is ready.
type CaptureInbox struct {
	mu     sync.Mutex
	events []*webhook.Event
}

// Register accepts every receiver.
func (c *CaptureInbox) Register(string, func(context.Context, *webhook.Event) error) error {
	return nil
}

// Enqueue keeps ev.
func (c *CaptureInbox) Enqueue(_ context.Context, ev *webhook.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return nil
}

// Events returns the events enqueued so far, in order.
func (c *CaptureInbox) Events() []*webhook.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*webhook.Event(nil), c.events...)
}
