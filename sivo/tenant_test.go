package sivo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seen is what a typed callback could tell about its delivery.
type seen struct {
	tenant      string
	tenantOK    bool
	secretIndex int
	eventOK     bool
}

// TestTypedCallbackSeesTenantAndSecret: a typed callback, run inline or
// by an inbox's worker, reads the tenant a secret source resolved
// (webhook.TenantFrom) and which of the tenant's secrets matched
// (webhook.EventFrom(ctx).Delivery.SecretIndex): what the README's
// many-accounts and rotation sections promise.
func TestTypedCallbackSeesTenantAndSecret(t *testing.T) {
	const oldA, newA, b = "sivo-tenant-a-old-0001", "sivo-tenant-a-new-0002", "sivo-tenant-b-0003"
	for _, mode := range []string{"inline", "inbox"} {
		t.Run(mode, func(t *testing.T) {
			src := testkit.NewSecretSource(map[string][]string{"a": {newA, oldA}, "b": {b}})
			got := make(chan seen, 1)
			cb := sivo.Callbacks{CallEnded: func(ctx context.Context, _ *sivo.Event, _ *sivo.CallEnded) error {
				var s seen
				s.tenant, s.tenantOK = webhook.TenantFrom(ctx)
				if ev, ok := webhook.EventFrom(ctx); ok {
					s.eventOK, s.secretIndex = true, ev.Delivery.SecretIndex
				}
				got <- s
				return nil
			}}
			opts := []webhook.Option{webhook.WithSecretSource(src, webhook.TenantFromPath("tenant"))}
			if mode == "inbox" {
				in, err := webhook.NewMemoryInbox(4, 1)
				require.NoError(t, err)
				t.Cleanup(func() { _ = in.Shutdown(context.Background()) })
				opts = append(opts, webhook.WithInbox(in))
			}
			h, err := sivo.NewHandler(nil, cb, opts...)
			require.NoError(t, err)
			mux := http.NewServeMux()
			mux.Handle("POST /sivo/{tenant}", h)
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			for i, c := range []struct {
				tenant, secret string
				want           seen
			}{
				{"a", oldA, seen{tenant: "a", tenantOK: true, secretIndex: 1, eventOK: true}},
				{"a", newA, seen{tenant: "a", tenantOK: true, secretIndex: 0, eventOK: true}},
				{"b", b, seen{tenant: "b", tenantOK: true, secretIndex: 0, eventOK: true}},
			} {
				ev, err := sivotest.NewEvent("evt_"+mode+"_"+string(rune('0'+i)), sivo.EventCallEnded, time.Now(), map[string]any{"callId": "c1"})
				require.NoError(t, err)
				snd, err := sivotest.NewSender(c.secret)
				require.NoError(t, err)
				code, err := snd.Deliver(context.Background(), srv.URL+"/sivo/"+c.tenant, ev.Raw)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, code)
				select {
				case s := <-got:
					assert.Equal(t, c.want, s, "delivery %d", i)
				case <-time.After(10 * time.Second): // a bound on a hang, not a wait: the callback ran before or just after the 2xx
					t.Fatalf("delivery %d: the callback did not run", i)
				}
			}
		})
	}
}

// TestTenantFromWithoutSource: with fixed secrets a callback has its
// delivery (EventFrom) but no tenant.
func TestTenantFromWithoutSource(t *testing.T) {
	got := make(chan seen, 1)
	h, err := sivo.NewHandler([]string{"fixed-secret"}, sivo.Callbacks{CallEnded: func(ctx context.Context, _ *sivo.Event, _ *sivo.CallEnded) error {
		var s seen
		s.tenant, s.tenantOK = webhook.TenantFrom(ctx)
		_, s.eventOK = webhook.EventFrom(ctx)
		got <- s
		return nil
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ev, err := sivotest.NewEvent("evt_fixed", sivo.EventCallEnded, time.Now(), map[string]any{"callId": "c1"})
	require.NoError(t, err)
	snd, err := sivotest.NewSender("fixed-secret")
	require.NoError(t, err)
	code, err := snd.Deliver(context.Background(), srv.URL, ev.Raw)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, seen{eventOK: true}, <-got)
}

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
