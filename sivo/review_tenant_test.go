package sivo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// TestReviewTenantFromIsTheVerifiedTenant: an application's router puts
// its own idea of the tenant into the request context with
// webhook.ContextWithTenant (say from the Host header, unverified). The
// callback and a Middleware's handler must still read the tenant whose
// secret verified the delivery.
func TestReviewTenantFromIsTheVerifiedTenant(t *testing.T) {
	const secretA = "sivo-tenant-a-review-0001"
	src := testkit.NewSecretSource(map[string][]string{"a": {secretA}})
	opts := []webhook.Option{webhook.WithSecretSource(src, webhook.TenantFromPath("tenant"))}
	router := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(webhook.ContextWithTenant(r.Context(), "from-host-header")))
		})
	}
	got := make(chan string, 2)
	h, err := sivo.NewHandler(nil, sivo.Callbacks{CallEnded: func(ctx context.Context, _ *sivo.Event, _ *sivo.CallEnded) error {
		tenant, _ := webhook.TenantFrom(ctx)
		got <- tenant
		return nil
	}}, opts...)
	require.NoError(t, err)
	mw, err := sivo.Middleware(nil, opts...)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /cb/{tenant}", router(h))
	mux.Handle("POST /mw/{tenant}", router(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := webhook.TenantFrom(r.Context())
		got <- tenant
	}))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	snd, err := sivotest.NewSender(secretA)
	require.NoError(t, err)
	for i, path := range []string{"/cb/a", "/mw/a"} {
		ev, err := sivotest.NewEvent("evt_review_"+string(rune('0'+i)), sivo.EventCallEnded, time.Now(), map[string]any{"callId": "c1"})
		require.NoError(t, err)
		code, err := snd.Deliver(context.Background(), srv.URL+path, ev.Raw)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, path)
		assert.Equal(t, "a", <-got, path)
	}
}
