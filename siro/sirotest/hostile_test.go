package sirotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// rawCall sends one request to the fake over HTTP and returns the status
// and body; a dropped connection (a handler that panicked) is an error.
func rawCall(method, u string, h http.Header, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, "", err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// hostileFake is a fake with three engagements, recordings, CRM users and
// mobile events, and a user token for the user API. Its requests are not
// checked against Siro's documents (newFake): they are malformed on
// purpose.
func hostileFake(t *testing.T) (fake *sirotest.Server, org http.Header, userToken string) {
	t.Helper()
	fake = sirotest.New()
	t.Cleanup(fake.Close)
	c, err := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: fmt.Sprintf("appt-%d", i),
			Opportunity: &siro.SyncEngagementOpportunity{ExternalID: fmt.Sprintf("opp-%d", i), Name: "O"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.Record(fmt.Sprintf("appt-%d", i), sirotest.Conversation{Utterances: []siro.Utterance{{Utterance: "a"}, {Utterance: "b"}}}); err != nil {
			t.Fatal(err)
		}
		fake.AddCRMUser(map[string]any{"id": fmt.Sprintf("cu%d", i)})
		fake.AddMobileEvent(siro.MobileEvent{EventCode: siro.MobileAppStateChange, UserID: "u1"})
	}
	org = http.Header{"Authorization": {"Bearer " + fake.OrgToken}}
	appID, secret := fake.CreateOAuthApp()
	_, b, err := rawCall("POST", fake.OrgURL()+"/v1/core/oauth/apps/"+appID+"/access-token", org,
		`{"clientSecret":"`+secret+`","userId":"u1","scope":"write"}`)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ AccessToken string }
	if err := json.Unmarshal([]byte(b), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("minting a token: %v %s", err, b)
	}
	return fake, org, tok.AccessToken
}

// TestHostileQueries: no paging or filter value, however large, negative
// or malformed, makes a list answer 5xx or drop the connection (a panic
// there also left the fake's lock held, hanging every later request).
func TestHostileQueries(t *testing.T) {
	fake, org, tok := hostileFake(t)
	_, b, _ := rawCall("GET", fake.OrgURL()+"/v1/core/recordings", org, "")
	var l struct{ Data []struct{ ID string } }
	if err := json.Unmarshal([]byte(b), &l); err != nil || len(l.Data) == 0 {
		t.Fatalf("listing recordings: %v %s", err, b)
	}
	values := []string{"", "0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
		"abc", "1e3", "1.5", " 1", "%00", "\u00e9", "\uff12", "0x10"}
	for _, p := range []struct {
		user bool
		path string
		keys []string
	}{
		{false, "/v1/core/recordings", []string{"pageSize", "cursor", "createdAt:gt", "updatedAt:gte", "isProcessingDone"}},
		{false, "/v1/integrations/users", []string{"pageSize", "cursor"}},
		{false, "/v1/core/mobile-events", []string{"pageSize", "cursor", "createdAtGt"}},
		{false, "/v1/integrations/engagements", []string{"cursor"}},
		{false, "/v1/integrations/opportunities", []string{"cursor", "recordingId"}},
		{false, "/v1/core/integrations/connections", []string{"cursor"}},
		{true, "/v1/core/recordings/" + l.Data[0].ID + "/utterances", []string{"pageSize", "cursor"}},
	} {
		base, h := fake.OrgURL(), org
		if p.user {
			base, h = fake.UserURL(), http.Header{"X-Siro-Auth-Token": {tok}}
		}
		for _, k1 := range p.keys {
			for _, k2 := range p.keys {
				for _, v1 := range values {
					for _, v2 := range []string{"1", "9223372036854775807", "2"} {
						q := url.Values{k1: {v1}}
						q.Add(k2, v2)
						code, body, err := rawCall("GET", base+p.path+"?"+q.Encode(), h, "")
						if err != nil || code >= 500 {
							t.Errorf("%s?%s: %d %v %.80s", p.path, q.Encode(), code, err, body)
						}
					}
				}
			}
		}
	}
}

// TestCRUDBodies: an engagement user without an engagementId (Siro marks
// no field required) is stored and listed without breaking the user's
// engagements; a field of the wrong type is 400 and stores nothing.
func TestCRUDBodies(t *testing.T) {
	fake, org, _ := hostileFake(t)
	code, body, err := rawCall("POST", fake.OrgURL()+"/v1/integrations/engagement-users", org, `{"userId":"x1"}`)
	if err != nil || code != 200 {
		t.Fatalf("create without engagementId: %d %v %s", code, err, body)
	}
	code, body, err = rawCall("GET", fake.OrgURL()+"/v1/integrations/users/x1/engagements", org, "")
	if err != nil || code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("x1's engagements: %d %v %s, want 200 []", code, err, body)
	}
	for _, bad := range []string{`{"engagementId":5,"userId":"x2"}`, `{"userId":["x2"]}`} {
		code, body, err = rawCall("POST", fake.OrgURL()+"/v1/integrations/engagement-users", org, bad)
		if err != nil || code != 400 {
			t.Errorf("create %s: %d %v %s, want 400", bad, code, err, body)
		}
	}
	code, body, _ = rawCall("POST", fake.OrgURL()+"/v1/integrations/opportunity-users", org, `{"opportunityId":"o","userId":"u","amountPercentage":"half"}`)
	if code != 400 {
		t.Errorf("amountPercentage as a string: %d %s, want 400", code, body)
	}
	_, body, _ = rawCall("GET", fake.OrgURL()+"/v1/integrations/engagement-users?userId=x2", org, "")
	if strings.TrimSpace(body) != "[]" {
		t.Errorf("a refused body was stored: %s", body)
	}
	fake.AddCRMUser(map[string]any{"id": 7}) // a test's own odd id: listed, not a panic
	if code, body, err = rawCall("GET", fake.OrgURL()+"/v1/integrations/users", org, ""); err != nil || code != 200 {
		t.Errorf("CRM users with a numeric id: %d %v %s", code, err, body)
	}
}

// TestLinkDataTypeOutsideEnum: a dataType outside RecordingLinkBody's
// documented members is a 422 validation error, not a lookup.
func TestLinkDataTypeOutsideEnum(t *testing.T) {
	fake, _, tok := hostileFake(t)
	_, b, _ := rawCall("GET", fake.OrgURL()+"/v1/core/recordings", http.Header{"Authorization": {"Bearer " + fake.OrgToken}}, "")
	var l struct{ Data []struct{ ID string } }
	if err := json.Unmarshal([]byte(b), &l); err != nil || len(l.Data) == 0 {
		t.Fatalf("listing recordings: %v %s", err, b)
	}
	code, body, err := rawCall("PUT", fake.UserURL()+"/v1/core/recordings/"+l.Data[0].ID+"/link",
		http.Header{"X-Siro-Auth-Token": {tok}}, `{"dataType":"BANANA","id":"x"}`)
	if err != nil || code != 422 || !strings.Contains(body, "dataType") {
		t.Errorf("dataType BANANA: %d %v %s, want 422 naming dataType", code, err, body)
	}
}

// TestListsFilterByOwner: the OAuth app list and an app's token list
// answer only the owner's (the user who created the app, or whom the
// token was minted for).
func TestListsFilterByOwner(t *testing.T) {
	ctx := context.Background()
	fake, _, _, c := clockedFake(t)
	appID, secret := fake.CreateOAuthApp() // owner siro-user-1
	other, err := c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "crm", Owner: "siro-user-7", OrganizationID: fake.OrganizationID})
	if err != nil {
		t.Fatal(err)
	}
	for owner, want := range map[string]string{"siro-user-1": appID, "siro-user-7": other.ClientID} {
		apps, err := c.ListOAuthApps(ctx, &siro.ListOAuthAppsParams{OrganizationID: fake.OrganizationID, Owner: owner})
		if err != nil || len(apps.Data) != 1 || apps.Data[0].ClientID != want {
			t.Errorf("apps of %s: %+v %v, want only %s", owner, apps, err, want)
		}
	}
	if apps, err := c.ListOAuthApps(ctx, &siro.ListOAuthAppsParams{OrganizationID: "another-org", Owner: "siro-user-1"}); err != nil || len(apps.Data) != 0 {
		t.Errorf("another organization's apps: %+v %v, want none", apps, err)
	}
	for _, user := range []string{"siro-user-1", "siro-user-2", "siro-user-2"} {
		if _, err := c.CreateAccessToken(ctx, appID, &siro.CreateAccessTokenParams{ClientSecret: secret, UserID: user, Scope: siro.ScopeRead}); err != nil {
			t.Fatal(err)
		}
	}
	for owner, want := range map[string]int{"siro-user-1": 1, "siro-user-2": 2, "nobody": 0} {
		toks, err := c.ListAccessTokens(ctx, appID, &siro.ListAccessTokensParams{Owner: owner})
		if err != nil || len(toks.Data) != want {
			t.Errorf("tokens of %s: %d %v, want %d", owner, len(toks.Data), err, want)
		}
	}
}

// TestReadsDuringWrites: a record read or listed while another request
// updates it is encoded under the fake's lock, so `go test -race` finds
// no race between the answer's JSON and the update (each answer used to
// be encoded after the lock was released, from the same maps).
func TestReadsDuringWrites(t *testing.T) {
	ctx := context.Background()
	fake, _ := newFake(t)
	c := userClient(t, fake, siro.ScopeWrite)
	u, err := c.CreateEngagementUser(ctx, &siro.EngagementUserParams{EngagementID: "e1", UserID: "u1", Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 20 {
				var err error
				switch i {
				case 0:
					_, err = c.UpdateEngagementUser(ctx, u.ID, &siro.EngagementUserParams{Name: fmt.Sprint("name-", j)})
				case 1:
					_, err = c.GetEngagementUser(ctx, u.ID)
				default:
					_, err = c.ListEngagementUsers(ctx, nil)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
