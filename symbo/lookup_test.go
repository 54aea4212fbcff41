package symbo_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lookupAs signs a lookup of number with secret (HMAC over the raw query)
// and sends it to base+path; it returns the status and Retry-After.
func lookupAs(t *testing.T, url, secret string, emptyBody bool) (int, string) {
	t.Helper()
	const query = "number=%2B18005551212"
	s, err := symbotest.NewSender(secret)
	require.NoError(t, err)
	signed := []byte(query)
	if emptyBody {
		signed = nil
	}
	code, h := getSigned(t, url+"?"+query, s.Sign(signed).Get(symbo.HeaderSignature))
	return code, h.Get("Retry-After")
}

// getSigned sends a GET of url with sig as X-Hmac-Signature and returns
// the status and the headers.
func getSigned(t testing.TB, url, sig string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set(symbo.HeaderSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

const (
	lookupOldA = "tenant-a-old-secret-0001"
	lookupNewA = "tenant-a-new-secret-0002"
	lookupB    = "tenant-b-secret-00000003"
)

func newSourcedLookup(t *testing.T, src webhook.SecretSource, opts ...symbo.LookupOption) (*httptest.Server, *bytes.Buffer, *int) {
	t.Helper()
	var logs bytes.Buffer
	var calls int
	var mu sync.Mutex
	fn := func(context.Context, string) (*symbo.Contact, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return sally, nil
	}
	opts = append([]symbo.LookupOption{
		symbo.WithLookupSecretSource(src, webhook.TenantFromPath("tenant")),
		symbo.WithLookupLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}, opts...)
	h, err := symbo.NewLookupHandler(nil, fn, opts...)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /symbo/{tenant}/lookup", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, h) + fmt.Sprintf(verb, *h)
		for _, s := range []string{lookupOldA, lookupNewA, lookupB} {
			assert.NotContains(t, out, s, verb)
		}
	}
	return srv, &logs, &calls
}

// TestLookupSecretSourceRotationAndTenants: per-tenant secrets from a
// source on /symbo/{tenant}/lookup; old and new verify during the
// overlap, a removed secret stops at once, tenant A's secret is refused
// on tenant B's URL, an unknown tenant is 404.
func TestLookupSecretSourceRotationAndTenants(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"a": {lookupOldA}, "b": {lookupB}})
	srv, logs, calls := newSourcedLookup(t, src)
	a, b := srv.URL+"/symbo/a/lookup", srv.URL+"/symbo/b/lookup"

	st, _ := lookupAs(t, a, lookupOldA, false)
	assert.Equal(t, 200, st)
	st, _ = lookupAs(t, a, lookupNewA, false)
	assert.Equal(t, 401, st, "not yet added")

	src.SetTenant("a", lookupNewA, lookupOldA)
	for _, sec := range []string{lookupOldA, lookupNewA} {
		st, _ = lookupAs(t, a, sec, false)
		assert.Equal(t, 200, st, "both verify during the overlap")
	}
	src.SetTenant("a", lookupNewA)
	st, _ = lookupAs(t, a, lookupOldA, false)
	assert.Equal(t, 401, st, "a removed secret stops at once")
	st, _ = lookupAs(t, a, lookupNewA, false)
	assert.Equal(t, 200, st)

	st, _ = lookupAs(t, b, lookupNewA, false)
	assert.Equal(t, 401, st, "tenant A's secret on tenant B's URL")
	st, _ = lookupAs(t, b, lookupB, false)
	assert.Equal(t, 200, st)

	st, _ = lookupAs(t, srv.URL+"/symbo/zz/lookup", lookupB, false)
	assert.Equal(t, 404, st, "unknown tenant")

	// The strict rule holds for source secrets: an HMAC over the empty
	// body is refused.
	st, _ = lookupAs(t, b, lookupB, true)
	assert.Equal(t, 401, st)
	assert.Contains(t, logs.String(), "HMAC over the empty body")

	assert.Equal(t, 5, *calls, "fn ran only for the authenticated lookups")
	for _, s := range []string{lookupOldA, lookupNewA, lookupB} {
		assert.NotContains(t, logs.String(), s)
	}
}

// TestLookupSecretSourceFailing: a failing source answers 503 with
// Retry-After (never 401), then the lookup works again.
func TestLookupSecretSourceFailing(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"a": {lookupOldA}})
	src.SetFail(true)
	var hooked []error
	srv, logs, calls := newSourcedLookup(t, src, symbo.WithLookupErrorHook(func(_ *http.Request, err error) { hooked = append(hooked, err) }))
	a := srv.URL + "/symbo/a/lookup"
	st, retry := lookupAs(t, a, lookupOldA, false)
	assert.Equal(t, 503, st)
	assert.NotEmpty(t, retry, "Retry-After")
	assert.Zero(t, *calls)
	require.Len(t, hooked, 1)
	assert.ErrorIs(t, hooked[0], webhook.ErrSecretSource)
	assert.NotContains(t, hooked[0].Error(), lookupOldA)
	assert.NotContains(t, fmt.Sprintf("%+v %#v", hooked[0], hooked[0]), lookupOldA)

	src.SetFail(false)
	st, _ = lookupAs(t, a, lookupOldA, false)
	assert.Equal(t, 200, st)
	assert.Equal(t, 1, *calls)
	assert.Contains(t, logs.String(), "status=503")
	assert.NotContains(t, logs.String(), lookupOldA)
}

// TestLookupSecretSourceEmptyBodyOptIn: InsecureAcceptEmptyBodySignature
// is accepted with a source (it needs secrets, which the source gives).
func TestLookupSecretSourceEmptyBodyOptIn(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"b": {lookupB}})
	srv, _, _ := newSourcedLookup(t, src, symbo.InsecureAcceptEmptyBodySignature())
	st, _ := lookupAs(t, srv.URL+"/symbo/b/lookup", lookupB, true)
	assert.Equal(t, 200, st)

	_, err := symbo.NewLookupHandler(nil, func(context.Context, string) (*symbo.Contact, error) { return nil, nil },
		symbo.WithLookupSecretSource(nil, webhook.FixedTenant("a")))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	assert.ErrorContains(t, err, "WithLookupSecretSource")
}

// TestLookupSecretSourceConcurrentRotation: lookups signed with the new
// secret never fail while another goroutine rotates the source (run with
// -race: the verifier cache is shared).
func TestLookupSecretSourceConcurrentRotation(t *testing.T) {
	src := testkit.NewSecretSource(map[string][]string{"a": {lookupNewA, lookupOldA}})
	srv, _, _ := newSourcedLookup(t, src)
	a := srv.URL + "/symbo/a/lookup"
	stop := make(chan struct{})
	rotated := make(chan struct{})
	go func() {
		defer close(rotated)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				src.SetTenant("a", lookupNewA)
			} else {
				src.SetTenant("a", lookupNewA, lookupOldA)
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make(chan int, 8*20)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				st, _ := lookupAs(t, a, lookupNewA, false)
				codes <- st
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-rotated
	close(codes)
	n := 0
	for c := range codes {
		n++
		assert.Equal(t, 200, c)
	}
	assert.Equal(t, 160, n)
	src.SetTenant("a", lookupNewA)
	st, _ := lookupAs(t, a, lookupOldA, false)
	assert.Equal(t, 401, st, "removed after the churn")
}

// TestLookupStrictSignatureByDefault: an HMAC over the empty body is one
// fixed value for every lookup, so whoever captured one request could
// read every contact with it. By default the lookup accepts only an HMAC
// over the query string (bound to the number), refuses the empty-body
// one with 401 and logs why; InsecureAcceptEmptyBodySignature opts back
// in.
func TestLookupStrictSignatureByDefault(t *testing.T) {
	const secret = "abcdefg"
	var asked []string
	fn := func(_ context.Context, number string) (*symbo.Contact, error) {
		asked = append(asked, number)
		return sally, nil
	}
	s, _ := symbotest.NewSender(secret)
	fixed := s.Sign(nil).Get(symbo.HeaderSignature) // HMAC(secret, ""): the same for every request
	withFixed := func(t *testing.T, url, number string) int {
		t.Helper()
		code, _ := getSigned(t, url+"?number="+number, fixed)
		return code
	}

	var logs bytes.Buffer
	strict, err := symbo.NewLookupHandler([]string{secret}, fn, symbo.WithLookupLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(strict)
	defer srv.Close()
	for _, n := range []string{"%2B18005551212", "%2B15178626434"} {
		assert.Equal(t, 401, withFixed(t, srv.URL, n), "the fixed empty-body token unlocks no contact")
	}
	assert.Empty(t, asked, "the lookup function never ran")
	assert.Contains(t, logs.String(), "HMAC over the empty body")
	assert.Contains(t, logs.String(), "InsecureAcceptEmptyBodySignature")
	assert.NotContains(t, logs.String(), secret)
	dialer, err := symbotest.NewDialer(secret)
	require.NoError(t, err)
	dialer.Client = srv.Client()
	code, c, err := dialer.Lookup(context.Background(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 200, code, "an HMAC over the query")
	assert.Equal(t, sally, c)
	// A query signature is bound to its number: replayed for another, 401.
	code, _ = getSigned(t, srv.URL+"?number=%2B15178626434", s.Sign([]byte("number=%2B18005551212")).Get(symbo.HeaderSignature))
	assert.Equal(t, 401, code)

	lax, err := symbo.NewLookupHandler([]string{secret}, fn, symbo.InsecureAcceptEmptyBodySignature())
	require.NoError(t, err)
	lsrv := httptest.NewServer(lax)
	defer lsrv.Close()
	assert.Equal(t, 200, withFixed(t, lsrv.URL, "%2B18005551212"), "opted in")
	assert.Contains(t, fmt.Sprint(lax), "empty-body hmac accepted")

	// The Dialer signing as Symbo's documentation reads literally (the
	// empty body of a GET): refused by the strict handler, accepted by
	// the one that opted in.
	literal := &symbotest.Dialer{}
	*literal = *dialer
	literal.EmptyBodySignature = true
	code, _, err = literal.Lookup(context.Background(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 401, code, "strict: empty-body signature refused")
	code, c, err = literal.Lookup(context.Background(), lsrv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 200, code, "opted in: empty-body signature accepted")
	assert.Equal(t, sally, c)

	_, err = symbo.NewLookupHandler(nil, fn, symbo.InsecureAcceptEmptyBodySignature(), symbo.InsecureNoAuth())
	assert.ErrorIs(t, err, webhook.ErrInvalidOption, "the opt-in needs the secrets it relaxes")
}

// TestLookupFnSeesTenant: with a secret source, the lookup function reads
// the tenant the source resolved from webhook.TenantFrom (a CRM serving
// several Symbo accounts looks the number up in the right one); with a
// fixed secret it reads none.
func TestLookupFnSeesTenant(t *testing.T) {
	tenants := make(chan string, 1)
	fn := func(ctx context.Context, _ string) (*symbo.Contact, error) {
		t, _ := webhook.TenantFrom(ctx)
		tenants <- t
		return sally, nil
	}
	src := testkit.NewSecretSource(map[string][]string{"a": {lookupOldA}, "b": {lookupB}})
	h, err := symbo.NewLookupHandler(nil, fn, symbo.WithLookupSecretSource(src, webhook.TenantFromPath("tenant")))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /symbo/{tenant}/lookup", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for tenant, secret := range map[string]string{"a": lookupOldA, "b": lookupB} {
		st, _ := lookupAs(t, srv.URL+"/symbo/"+tenant+"/lookup", secret, false)
		require.Equal(t, 200, st)
		assert.Equal(t, tenant, <-tenants)
	}

	fixed, err := symbo.NewLookupHandler([]string{lookupB}, fn)
	require.NoError(t, err)
	srv2 := httptest.NewServer(fixed)
	t.Cleanup(srv2.Close)
	st, _ := lookupAs(t, srv2.URL, lookupB, false)
	require.Equal(t, 200, st)
	assert.Equal(t, "", <-tenants)
}
