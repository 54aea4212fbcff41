package sirotest_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestLatencyEndsWhenAClientLeavesAPut: with WithLatency, a sync (a PUT
// with a JSON body) whose client gives up must end too, so Close
// returns; the fake waited before the handler read the body, and net/http
// notices a departed client only once the body is read, so Close waited
// out the whole latency.
func TestLatencyEndsWhenAClientLeavesAPut(t *testing.T) {
	org, read := testkit.FirstRead(testkit.Listen(t))
	fake := sirotest.New(sirotest.WithLatency(time.Hour), sirotest.WithListeners(org, nil))
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1"})
		done <- err
	}()
	<-read
	cancel()
	if err := <-done; err == nil {
		t.Fatal("SyncEngagement succeeded with its context cancelled")
	}
	closed := make(chan struct{})
	go func() { fake.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a deadline for a hang, not a wait
		t.Fatal("Close waited out the latency of a PUT its client abandoned")
	}
}
