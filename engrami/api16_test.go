package engrami_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
)

// TestPublicErrorTypesAndOptions: errors.As reads *engrami.Error, the
// sentinels match, and option errors carry one prefix naming the option.
func TestPublicErrorTypesAndOptions(t *testing.T) {
	fake := engramitest.New()
	defer fake.Close()
	c, err := fake.Client(engrami.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), http.MethodGet, "/no/such/endpoint", nil, nil, nil, nil)
	var ee *engrami.Error
	if !errors.As(err, &ee) || ee.StatusCode != 404 || !errors.Is(err, engrami.ErrNotFound) {
		t.Fatalf("got %T %v", err, err)
	}
	d := engrami.DefaultRetry()
	if d.MaxRetries != 2 || d.BaseDelay != 500*time.Millisecond || d.MaxDelay != 30*time.Second {
		t.Fatalf("DefaultRetry = %+v", d)
	}
	for _, tc := range []struct {
		opts []engrami.Option
		want string
	}{
		{nil, "engrami: NewClient: no token: give WithToken"},
		{[]engrami.Option{engrami.WithToken("")}, "engrami: WithToken: token is empty"},
		{[]engrami.Option{engrami.WithToken("t"), engrami.WithRetry(engrami.RetryPolicy{MaxRetries: 1, BaseDelay: 2 * time.Second, MaxDelay: time.Second})},
			"engrami: WithRetry: MaxDelay 1s is below BaseDelay 2s"},
	} {
		_, err := engrami.NewClient(tc.opts...)
		if err == nil || err.Error() != tc.want || !errors.Is(err, engrami.ErrInvalidOption) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if _, err := engrami.NewClient(engrami.WithToken("t"), engrami.WithRetry(engrami.RetryPolicy{MaxRetries: 4})); err != nil {
		t.Fatalf("partial policy refused: %v", err)
	}
}
