package sirotest_test

import (
	"bufio"
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
)

// TestStandaloneServerConformsToSirosDocuments runs the OpenAPI validation
// that checks the in-process fake against the fake as a standalone server
// ("callcrm fake siro", examples/callcrm, built here): a validating reverse
// proxy sits in front of each of the process's two hosts, and the siro
// client calls every operation it types through them. Every request and
// every answer the process gives is checked against Siro's documents.
// (The standalone server cannot take the validator as middleware: it is
// another process. examples/callcrm cannot import siro/internal, so the
// test lives here.) Injected faults are the in-process tests' business:
// the process answers only its natural successes and errors.
func TestStandaloneServerConformsToSirosDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/callcrm")
	}
	bin := filepath.Join(t.TempDir(), "callcrm")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/callcrm/callcrm-go/examples/callcrm").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/callcrm: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "fake", "siro", "-addr", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	vars := map[string]string{}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "ready" { // printed once it serves: no sleeps
		if k, v, ok := strings.Cut(lines.Text(), "="); ok {
			vars[k] = v
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if vars["SIRO_ORG_BASE_URL"] == "" || vars["SIRO_USER_BASE_URL"] == "" {
		t.Fatalf("callcrm fake siro printed %v", vars)
	}

	v, err := spectest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	proxy := func(host spectest.Host, base string) *httptest.Server {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "" // the org host's /api-externalApi stays in the request path
		s := httptest.NewServer(v.Wrap(host, spectest.RequestsAndResponses, httputil.NewSingleHostReverseProxy(u)))
		t.Cleanup(s.Close)
		return s
	}
	org, user := proxy(spectest.Org, vars["SIRO_ORG_BASE_URL"]), proxy(spectest.User, vars["SIRO_USER_BASE_URL"])
	base := []siro.Option{siro.WithOrgBaseURL(org.URL + "/api-externalApi"), siro.WithUserBaseURL(user.URL),
		siro.WithLimiter(siro.Unlimited{}), siro.WithUserLimiter(siro.Unlimited{}), siro.WithRetry(siro.RetryPolicy{})}

	ctx := context.Background()
	c, err := siro.NewClient(append(base, siro.WithOrgToken(vars["SIRO_ORG_TOKEN"]))...)
	if err != nil {
		t.Fatal(err)
	}
	// Objects for the success answers, then an OAuth app minted through the
	// API (the process has no CreateOAuthApp method to call).
	e, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit",
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}, Account: &siro.SyncAccount{ExternalID: "acct-1", Name: "Smith"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEngagement(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	app, err := c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "crm", Owner: "siro-user-1", OrganizationID: vars["SIRO_ORGANIZATION_ID"]})
	if err != nil {
		t.Fatal(err)
	}
	uc, err := siro.NewClient(append(base, siro.WithOrgToken(vars["SIRO_ORG_TOKEN"]), siro.WithOAuthApp(app.ClientID, app.ClientSecret, "siro-user-1", siro.ScopeWrite))...)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range everyCall(ctx, uc) {
		_ = call() // placeholder ids: successes, 404s, 422s, ...
	}

	testkit.ReportFirst(t, "Siro's OpenAPI document rejects", v.Violations())
	requests := map[string]bool{}
	for _, k := range v.Requests() {
		requests[k] = true
	}
	success := map[string]bool{}
	for _, k := range v.Responses() {
		i := strings.LastIndexByte(k, ' ')
		if k[i+1] == '2' {
			success[k[:i]] = true
		}
	}
	var ok int
	for _, op := range clientOperations {
		if !requests[op] {
			t.Errorf("no request of %s reached the standalone server", op)
		}
		if success[op] {
			ok++
		}
	}
	if ok < 10 {
		t.Errorf("only %d operations answered a success through the standalone server", ok)
	}
	t.Logf("standalone server validated against Siro's OpenAPI documents: %d operations' requests, %d operation/status answer pairs (%d operations with a success answer)",
		len(requests), len(v.Responses()), ok)
}
