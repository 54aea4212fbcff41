package webhooktest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// NewFromMiddleware's handler reports the verified event's ID to
// Behaviour.Event and answers 500 when Event fails. (The whole suite runs
// on it, through MiddlewareSubject, in webhook's and webhook/sqldedupe's
// conformance tests.)
func TestNewFromMiddleware(t *testing.T) {
	subject, err := webhooktest.MiddlewareSubject("X-Signature", "sha256=", "middleware-subject-secret")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	h, err := webhooktest.NewFromMiddleware(subject.Middleware)(webhooktest.Behaviour{Event: func(_ context.Context, id string) error {
		got = append(got, id)
		if id == "bad" {
			return errors.New("refused")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for id, want := range map[string]int{"good": http.StatusOK, "bad": http.StatusInternalServerError} {
		body := `{"id":"` + id + `"}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header = subject.Sign([]byte(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", id, resp.StatusCode, want)
		}
	}
	if len(got) != 2 {
		t.Fatalf("Event saw %v, want good and bad once each", got)
	}
}

// A NewFromMiddleware whose middleware cannot be built returns that error.
func TestNewFromMiddlewareError(t *testing.T) {
	_, err := webhooktest.NewFromMiddleware(func(...webhook.Option) (func(http.Handler) http.Handler, error) {
		return nil, webhook.ErrInvalidOption
	})(webhooktest.Behaviour{})
	if !errors.Is(err, webhook.ErrInvalidOption) {
		t.Fatalf("err = %v, want webhook.ErrInvalidOption", err)
	}
}
