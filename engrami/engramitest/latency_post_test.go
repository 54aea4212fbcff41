package engramitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// TestLatencyEndsWhenAClientLeavesAPost: every Engrami API call the client
// makes is a POST with a JSON body. With WithLatency, such a request whose
// client gives up must end too, so Close returns; the fake waited before
// reading the body, and net/http notices a departed client only once the
// body is read, so Close waited out the whole latency.
func TestLatencyEndsWhenAClientLeavesAPost(t *testing.T) {
	l, read := testkit.FirstRead(testkit.Listen(t))
	fake := engramitest.New(engramitest.WithLatency(time.Hour), engramitest.WithListener(l))
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.CreateSecret(ctx, &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_test"}) }()
	<-read
	cancel()
	if err := <-done; err == nil {
		t.Fatal("CreateSecret succeeded with its context cancelled")
	}
	closed := make(chan struct{})
	go func() { fake.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a deadline for a hang, not a wait
		t.Fatal("Close waited out the latency of a POST its client abandoned")
	}
}
