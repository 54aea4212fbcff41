package engramitest_test

import (
	"context"
	"net"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
)

// TestWithListenerServesOnTheGivenListener: the fake answers on the
// listener it is given (as "callcrm fake engrami" runs it) and Close
// closes that listener.
func TestWithListenerServesOnTheGivenListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts after Close")
	}
}
