package engramitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// TestWithListenerServesOnTheGivenListener: the fake answers on the
// listener it is given (as "callcrm fake engrami" runs it) and Close
// closes that listener.
func TestWithListenerServesOnTheGivenListener(t *testing.T) {
	l := testkit.Listen(t)
	fake := engramitest.New(engramitest.WithListener(l))
	if want := "http://" + l.Addr().String() + "/api/v1"; fake.BaseURL() != want {
		t.Errorf("BaseURL %s, want %s", fake.BaseURL(), want)
	}
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateSecret(context.Background(), &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_test"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.Secret("CRM_API_KEY"); !ok {
		t.Error("the secret did not reach the fake")
	}
	fake.Close()
	testkit.CheckClosed(t, l)
}

// TestLatencyEndsWhenTheClientLeaves: with WithLatency, a request whose
// client gives up ends at once instead of sleeping out the latency, so
// Close (which waits for every request) returns; it used to wait the
// whole hour.
func TestLatencyEndsWhenTheClientLeaves(t *testing.T) {
	l, read := testkit.FirstRead(testkit.Listen(t))
	fake := engramitest.New(engramitest.WithLatency(time.Hour), engramitest.WithListener(l))
	testkit.AbandonedCallEnds(t, read, testkit.Get(fake.URL+"/api/v1/secrets"), fake.Close)
}

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
	testkit.AbandonedCallEnds(t, read, func(ctx context.Context) error {
		return c.CreateSecret(ctx, &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_test"})
	}, fake.Close)
}
