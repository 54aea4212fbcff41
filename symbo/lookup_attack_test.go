package symbo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackLookupGoexitIs500AtOnce: a lookup function that ends its
// goroutine with runtime.Goexit failed, and NewLookupHandler documents
// 500 when fn fails or panics. The goroutine's deferred recover sees no
// panic and sends nothing, so the handler waits out the whole deadline
// and answers 504 as if fn were slow (Symbo's dial waits that long).
func TestAttackLookupGoexitIs500AtOnce(t *testing.T) {
	const secret = "abcdefg"
	h, err := symbo.NewLookupHandler([]string{secret}, func(context.Context, string) (*symbo.Contact, error) {
		runtime.Goexit()
		return nil, nil
	}, symbo.WithLookupTimeout(200*time.Millisecond))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	dialer, err := symbotest.NewDialer(secret)
	require.NoError(t, err)
	dialer.Client = srv.Client()
	code, _, _ := dialer.Lookup(context.Background(), srv.URL, "+18005551212")
	assert.Equal(t, http.StatusInternalServerError, code, "a lookup that called Goexit answered as a timeout")
}
