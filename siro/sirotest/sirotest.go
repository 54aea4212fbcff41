// Package sirotest is an in-memory Siro for tests: both hosts (the org API
// and the user API) on httptest servers, with Siro's envelopes and error
// shapes, per-host auth (the org token, and user tokens minted by the fake's
// own OAuth endpoints, with expiry), upserts by externalId, 422 issues on
// bad input, optional rate limiting and injected faults. A test can say "a
// recording happened for engagement X": the fake records it with a
// summary, extractions and a transcript, and delivers both Svix-signed
// webhooks to a URL in the order the test picks, with duplicates on
// demand; each delivery marks the recording processed or linked, as Siro
// does when it sends that event, and reports both conditions as they are
// then.
//
//	fake := sirotest.New()
//	defer fake.Close()
//	c, err := fake.Client() // a *siro.Client wired to both fake hosts
//	if err != nil {
//		t.Fatal(err)
//	}
//	if _, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit"}); err != nil {
//		t.Fatal(err)
//	}
//	rec, err := fake.Record("appt-1", sirotest.Conversation{Title: "Visit"})
//	codes, err := fake.DeliverWebhooks(ctx, receiver.URL, rec.RecordingID, // Svix-signed
//		sirotest.Delivery{Type: siro.EventRecordingProcessed}, sirotest.Delivery{Type: siro.EventRecordingLinked})
//
// Every operation the siro package types is served: the sync endpoints
// (engagements, opportunities, multimedia events, soft-delete-removed),
// engagements, engagement users, opportunities, opportunity users,
// accounts, CRM users (seed with AddCRMUser), org recordings (list with
// show* flags and the createdAt, updatedAt and is*Done filters, get,
// summaries), mobile events (seed
// with AddMobileEvent), OAuth apps and access tokens, caller identity,
// integration connections and the Salesforce upsert; on the user API
// recording details, utterances, entity extractions and CRM link / unlink.
// Other routes answer 404 with Siro's error shapes.
//
// Answers have the shapes of Siro's published OpenAPI documents (UUIDs
// where they declare uuid, enum members, arrays never null, optional
// fields omitted rather than null); this repository's tests validate every
// request and answer against them.
package sirotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/fakeserver"
	"github.com/callcrm/callcrm-go/internal/fault"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// Server is a fake Siro. Safe for concurrent use.
type Server struct {
	// Org and User are the two hosts.
	Org, User *httptest.Server
	// OrgToken is the accepted organization token.
	OrgToken string
	// WebhookSecret signs webhooks ("whsec_...").
	WebhookSecret string
	// OrganizationID is the fake organization's id.
	OrganizationID string
	// IntegrationConnectionID is the fake CRM connection's id.
	IntegrationConnectionID string

	clock      clock.Clock
	latency    time.Duration
	rateLimit  int
	tokenTTL   time.Duration
	signer     *webhook.StandardSigner
	httpClient *http.Client
	middleware func(siro.Host, http.Handler) http.Handler
	orgLn      net.Listener // WithListeners (listen.go)
	userLn     net.Listener

	mu            sync.Mutex
	seq           int
	engagements   map[string]*siro.Engagement // by externalId
	opportunities map[string]*siro.Opportunity
	accounts      map[string]*siro.Account
	recordings    map[string]*recording // by id
	apps          map[string]*oauthApp  // by clientId
	tokens        map[string]userToken  // access token -> info
	tokenInfo     map[string]string     // tokenId -> access token
	windowStart   time.Time
	windowCount   map[string]int
	maxPerMinute  int
	faults        fault.Set
	requests      atomic.Int64
	deleted       map[string]bool
	// engUsers are the CRM users each engagement was synced with, by
	// engagement id: the crm.users of its recordings.
	engUsers map[string][]siro.CRMRef

	engagementUsers, opportunityUsers, crmUsers, connections *crud
	mobile                                                   []siro.MobileEvent
	multimedia                                               int
	scale                                                    *scale // scale.go
}

type userToken struct {
	id, userID, clientID string
	scope                siro.Scope
	created, expires     time.Time
	// revoked is when the token was revoked (zero: it was not); a revoked
	// token stays readable, as Siro's revoke is a soft delete.
	revoked time.Time
}

// oauthApp is a registered OAuth app; deleted is when it was
// soft-deleted (zero: it was not).
type oauthApp struct {
	secret, name, owner string
	created, deleted    time.Time
}

// doneSummary, doneExtractions and doneUtterances are what Siro serves
// of the recording: nothing until it is processed.
func (r *recording) doneSummary() []siro.SummarySection     { return ifProcessed(r, r.summary) }
func (r *recording) doneExtractions() []siro.ExtractedField { return ifProcessed(r, r.extractions) }
func (r *recording) doneUtterances() []siro.Utterance       { return ifProcessed(r, r.utterances) }
func ifProcessed[T any](r *recording, v []T) []T {
	if !r.processed {
		return nil
	}
	return v
}

type recording struct {
	rec         siro.Recording
	summary     []siro.SummarySection
	extractions []siro.ExtractedField
	utterances  []siro.Utterance
	speakers    map[string]string
	// processed: Siro finished its transcript, summary and extractions;
	// linked: the recording is definitively linked to CRM records (rec.CRM
	// is set). Each is what the webhooks report as recordingProcessed and
	// recordingLinked.
	processed bool
	linked    bool
	// match is what the recording is linked to once linked: the CRM
	// records of the engagement it was recorded for.
	match siro.CRMLinks
	// latitude and longitude are where it was recorded; evaluationScore
	// is its score, shown with showEvaluationScore.
	latitude, longitude, evaluationScore float64
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for token expiry, rate windows and
// webhook timestamps.
func WithClock(c webhook.Clock) Option {
	return func(s *Server) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithLatency delays every answer by d (real time); a request whose
// client leaves meanwhile ends unanswered, so Close does not wait it out.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRateLimit answers 429 past n requests per token per minute (Siro
// documents 1,000).
func WithRateLimit(n int) Option { return func(s *Server) { s.rateLimit = n } }

// WithTokenTTL sets the minted user tokens' lifetime (default 16 h).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// WithMiddleware wraps each host's handler (outermost, before auth, faults
// and rate limits) with mw, which is told which host it wraps: to record,
// log or validate every request and answer, as this package's and the
// siro package's tests do against Siro's OpenAPI documents.
func WithMiddleware(mw func(host siro.Host, next http.Handler) http.Handler) Option {
	return func(s *Server) { s.middleware = mw }
}

// New starts a fake Siro. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		OrgToken:                "sirotest-org-token",
		WebhookSecret:           "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ=",
		OrganizationID:          "org_sirotest",
		IntegrationConnectionID: "ic_sirotest",
		clock:                   clock.Real{},
		tokenTTL:                siro.DefaultTokenLifetime,
		engagements:             map[string]*siro.Engagement{},
		opportunities:           map[string]*siro.Opportunity{},
		accounts:                map[string]*siro.Account{},
		recordings:              map[string]*recording{},
		apps:                    map[string]*oauthApp{},
		tokens:                  map[string]userToken{},
		tokenInfo:               map[string]string{},
		windowCount:             map[string]int{},
		deleted:                 map[string]bool{},
		engUsers:                map[string][]siro.CRMRef{},
		engagementUsers:         newCRUD("eu", "engagementId", "userId", "name"),
		opportunityUsers:        newCRUD("ou", "opportunityId", "userId", "name", "amountPercentage"),
		crmUsers:                newCRUD("crmuser"),
		connections:             newCRUD("ic", "name", "integrationPlatform", "externalAccountId", "isActive"),
	}
	for _, o := range opts {
		o(s)
	}
	s.signer, _ = webhook.NewStandardSigner(s.WebhookSecret, webhook.WithSignatureClock(s.clock))
	org, user := s.wrap(true, s.scaleMiddleware(s.orgMux())), s.wrap(false, s.userMux())
	if s.middleware != nil {
		org, user = s.middleware(siro.OrgAPI, org), s.middleware(siro.UserAPI, user)
	}
	s.Org = fakeserver.Start(org, s.orgLn)
	s.User = fakeserver.Start(user, s.userLn)
	s.httpClient = &http.Client{Timeout: 10 * time.Second}
	return s
}

// Close stops both hosts.
func (s *Server) Close() {
	s.Org.Close()
	s.User.Close()
}

// OrgURL is the org API base URL (pass to siro.WithOrgBaseURL).
func (s *Server) OrgURL() string { return s.Org.URL + "/api-externalApi" }

// UserURL is the user API base URL (pass to siro.WithUserBaseURL).
func (s *Server) UserURL() string { return s.User.URL }

// Client returns a siro.Client wired to the fake with the org token; add
// options (WithOAuthApp, WithClock, ...) as needed.
func (s *Server) Client(opts ...siro.Option) (*siro.Client, error) {
	// No client-side pacing by default: on a fake clock that the test does
	// not advance, the default limiter would wait forever past its burst.
	// The fake enforces Siro's own limits (WithRateLimit,
	// WithWindowRateLimit); pass siro.WithLimiter to test pacing.
	base := []siro.Option{siro.WithOrgToken(s.OrgToken), siro.WithOrgBaseURL(s.OrgURL()), siro.WithUserBaseURL(s.UserURL()),
		siro.WithLimiter(siro.Unlimited{}), siro.WithUserLimiter(siro.Unlimited{})}
	return siro.NewClient(append(base, opts...)...)
}

// CreateOAuthApp registers an OAuth app and returns its client id and
// secret (what POST /v1/core/oauth/apps would).
func (s *Server) CreateOAuthApp() (clientID, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	clientID = fmt.Sprintf("client_%d", s.seq)
	clientSecret = fmt.Sprintf("secret_%d_%d", s.seq, time.Now().UnixNano())
	s.apps[clientID] = &oauthApp{secret: clientSecret, name: "sirotest", owner: "siro-user-1", created: s.clock.Now()}
	return clientID, clientSecret
}

// Fail makes the next n requests matching route answer status the way
// Siro documents that answer for the operation (its content type and
// body: text/plain where Siro's OpenAPI documents declare it, the Zod
// issues for 422, {"error": ...} otherwise), without a Retry-After unless
// RetryAfter is given, since Siro sends none. route is "PATH" or
// "METHOD PATH", PATH a prefix of the path as Siro's documents write it
// ("/v1/integrations/sync/batch/engagements", on either host), "" for
// every request. engramitest.Server.Fail has the same semantics. status
// must be 200 to 599 and n not negative; otherwise Fail adds nothing and
// returns an error naming the value.
func (s *Server) Fail(route string, status, n int, opts ...FaultOption) error {
	var retry time.Duration
	for _, o := range opts {
		retry = o.retryAfter
	}
	return s.faults.Fail("sirotest", route, status, n, retry)
}

// FaultOption adjusts an injected fault.
type FaultOption struct{ retryAfter time.Duration }

// RetryAfter makes an injected fault carry a Retry-After header of d
// (whole seconds), which Siro itself never sends.
func RetryAfter(d time.Duration) FaultOption { return FaultOption{retryAfter: d} }

// RequestCount returns how many requests both hosts received, as
// engramitest.Server.RequestCount does for Engrami's fake.
func (s *Server) RequestCount() int64 { return s.requests.Load() }

// MaxPerMinute returns the most requests one token made in one minute
// window so far.
func (s *Server) MaxPerMinute() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxPerMinute
}

// Engagement returns the stored engagement for a CRM externalId.
func (s *Server) Engagement(externalID string) (siro.Engagement, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.engagements[externalID]
	if !ok {
		return siro.Engagement{}, false
	}
	return *e, true
}

// EngagementCount returns how many engagements are stored.
func (s *Server) EngagementCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.engagements)
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%06d", prefix, s.seq)
}

func (s *Server) now() string { return s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// --- HTTP plumbing -----------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// notFound answers Siro's 404 for an id it does not hold.
func notFound(w http.ResponseWriter) { writeErr(w, 404, "Not Found - Resource not found") }

// lookup returns m[key], or answers notFound and reports false.
func lookup[V any](w http.ResponseWriter, m map[string]V, key string) (V, bool) {
	v, ok := m[key]
	if !ok {
		notFound(w)
	}
	return v, ok
}

// onRecording answers with answer, under the lock, for the recording the
// path value key names, and 404 when there is none.
func (s *Server) onRecording(key string, answer func(http.ResponseWriter, *http.Request, *recording)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rec, ok := lookup(w, s.recordings, r.PathValue(key)); ok {
			answer(w, r, rec)
		}
	}
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeIssues answers 422 with a Zod-style issues list.
func writeIssues(w http.ResponseWriter, path []any, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"issues": []map[string]any{{"code": "invalid_type", "expected": "string", "received": "undefined", "path": path, "message": msg}},
		"name":   "ZodError",
	})
}

// errorMessages are the messages Siro's documents give its error answers.
var errorMessages = map[int]string{
	http.StatusBadRequest:          badParams,
	http.StatusUnauthorized:        "Unauthorized - User not authenticated",
	http.StatusForbidden:           "Forbidden - User does not have access",
	http.StatusNotFound:            "Not Found - Resource not found",
	http.StatusInternalServerError: "Internal Server Error",
}

// writeFault answers an injected fault the way Siro answers that status
// for the operation: text/plain where Siro's documents declare it
// (textAnswers), 429 as text/plain "Rate limit exceeded", 422 with Zod
// issues, the others as {"error": message}.
func writeFault(w http.ResponseWriter, r *http.Request, org bool, status int) {
	if textAnswer(org, r.Method, strings.TrimPrefix(r.URL.Path, "/api-externalApi"), status) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
		return
	}
	switch status {
	case http.StatusTooManyRequests:
		writeRateLimited(w)
	case http.StatusUnprocessableEntity:
		writeIssues(w, []any{}, "Invalid input")
	default:
		msg, ok := errorMessages[status]
		if !ok {
			msg = http.StatusText(status)
		}
		writeErr(w, status, msg)
	}
}

func writeRateLimited(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, "Rate limit exceeded")
}

func (s *Server) wrap(org bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.latency > 0 {
			fakeserver.ReadAhead(r, 32<<20) // as much as a handler reads
		}
		if !fakeserver.Delay(r.Context(), s.latency) {
			return // the client left: nothing to answer
		}
		var cred string
		if org {
			if r.Header.Get("Authorization") != "Bearer "+s.OrgToken {
				writeErr(w, http.StatusUnauthorized, "Unauthorized - User not authenticated")
				return
			}
			cred = "org"
		} else {
			tok := r.Header.Get("x-siro-auth-token")
			info, ok := s.userToken(tok)
			if !ok || !info.revoked.IsZero() || !s.clock.Now().Before(info.expires) {
				writeErr(w, http.StatusUnauthorized, "Unauthorized - User not authenticated")
				return
			}
			if info.scope == siro.ScopeRead && r.Method != http.MethodGet {
				writeErr(w, http.StatusForbidden, "Forbidden - User does not have access")
				return
			}
			cred = tok
		}
		if f, ok := s.faults.Take(r.Method, strings.TrimPrefix(r.URL.Path, "/api-externalApi")); ok {
			f.Header(w)
			writeFault(w, r, org, f.Status)
			return
		}
		if s.overLimit(cred) {
			writeRateLimited(w)
			return
		}
		// Handlers encode under the fake's lock: they write into memory,
		// and the answer goes to the connection once the lock is released,
		// so a client reading slowly stalls only its own request.
		buf := &bufferedWriter{ResponseWriter: w}
		next.ServeHTTP(buf, r)
		buf.flush()
	})
}

// bufferedWriter holds a handler's status and body until flush; headers
// go straight to the real writer's map (sent at flush).
type bufferedWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedWriter) flush() {
	b.WriteHeader(http.StatusOK)
	b.ResponseWriter.WriteHeader(b.status)
	_, _ = b.ResponseWriter.Write(b.body.Bytes())
}

// userToken looks up a user API access token.
func (s *Server) userToken(tok string) (userToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.tokens[tok]
	return info, ok
}

// overLimit counts a request of credential cred in the current minute and
// reports whether it is over WithRateLimit's limit.
func (s *Server) overLimit(cred string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if now.Sub(s.windowStart) >= time.Minute {
		s.windowStart = now.Truncate(time.Minute)
		s.windowCount = map[string]int{}
	}
	s.windowCount[cred]++
	n := s.windowCount[cred]
	if n > s.maxPerMinute {
		s.maxPerMinute = n
	}
	return s.rateLimit > 0 && n > s.rateLimit
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// --- org API -------------------------------------------------------------------

func (s *Server) orgMux() http.Handler {
	mux := http.NewServeMux()
	p := "/api-externalApi"
	engUpsert := func(e *siro.SyncEngagement) any { return s.engagementAnswer(s.upsertEngagement(e)) }
	oppUpsert := func(o *siro.SyncOpportunity) any { return s.opportunityAnswer(s.upsertOpportunity(o, false)) }
	engID := func(e *siro.SyncEngagement) string { return e.ExternalID }
	oppID := func(o *siro.SyncOpportunity) string { return o.ExternalID }
	mux.HandleFunc("PUT "+p+"/v1/integrations/sync/engagements", syncOne(s, engID, engUpsert))
	mux.HandleFunc("PUT "+p+"/v1/integrations/sync/batch/engagements", syncBatch(s, engID, engUpsert))
	mux.HandleFunc("POST "+p+"/v1/integrations/sync/engagements/soft-delete-removed", s.softDelete)
	mux.HandleFunc("PUT "+p+"/v1/integrations/sync/opportunities", syncOne(s, oppID, oppUpsert))
	mux.HandleFunc("PUT "+p+"/v1/integrations/sync/batch/opportunities", syncBatch(s, oppID, oppUpsert))
	mux.HandleFunc("GET "+p+"/v1/integrations/engagements", s.listEngagements)
	mux.HandleFunc("GET "+p+"/v1/integrations/engagements/{id}", s.getEngagement)
	mux.HandleFunc("DELETE "+p+"/v1/integrations/engagements/{id}", s.deleteEngagement)
	mux.HandleFunc("GET "+p+"/v1/integrations/opportunities", s.listOpportunities)
	mux.HandleFunc("GET "+p+"/v1/integrations/opportunities/{id}", s.getOpportunity)
	mux.HandleFunc("DELETE "+p+"/v1/integrations/opportunities/{id}", s.deleteOpportunity)
	mux.HandleFunc("GET "+p+"/v1/integrations/accounts", s.listAccounts)
	mux.HandleFunc("POST "+p+"/v1/integrations/accounts", s.createAccount)
	mux.HandleFunc("GET "+p+"/v1/integrations/accounts/{id}", s.getAccount)
	mux.HandleFunc("PUT "+p+"/v1/integrations/accounts/{id}", s.updateAccount)
	mux.HandleFunc("DELETE "+p+"/v1/integrations/accounts/{id}", s.deleteAccount)
	mux.HandleFunc("GET "+p+"/v1/core/recordings", s.listRecordings)
	mux.HandleFunc("GET "+p+"/v1/core/recordings/{id}", s.onRecording("id", s.getRecording))
	mux.HandleFunc("GET "+p+"/v1/core/recordings/{id}/summaries", s.onRecording("id", s.getSummaries))
	mux.HandleFunc("POST "+p+"/v1/core/oauth/apps", s.createApp)
	mux.HandleFunc("POST "+p+"/v1/core/oauth/apps/{clientId}/access-token", s.mintToken)
	mux.HandleFunc("GET "+p+"/v1/core/oauth/apps/{clientId}/access-token/{tokenId}", s.getToken)
	mux.HandleFunc("DELETE "+p+"/v1/core/oauth/apps/{clientId}/access-token/{tokenId}", s.revokeToken)
	mux.HandleFunc("GET "+p+"/v1/core/auth/caller-identity", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"tokenId": uuidFor("org-token"), "tokenName": "sirotest", "organizationId": s.OrganizationID,
			"authorizedOrgGroupId": nil, "parentOrgGroupTokenId": nil, "createdAt": s.now(), "createdBy": nil})
	})
	s.mountMore(mux, p)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if documentedRoute(true, r.Method, strings.TrimPrefix(r.URL.Path, p)) {
			notServed(w, r)
			return
		}
		writeErr(w, http.StatusNotFound, "Not Found - Resource not found")
	})
	return mux
}

func (s *Server) upsertEngagement(in *siro.SyncEngagement) *siro.Engagement {
	e, ok := s.engagements[in.ExternalID]
	if !ok {
		e = &siro.Engagement{ID: s.nextID("eng"), ExternalID: in.ExternalID, OrganizationID: s.OrganizationID, CreatedAt: s.nowTime()}
		s.engagements[in.ExternalID] = e
	}
	e.UpdatedAt = s.nowTime()
	e.Subject, e.Content, e.Direction = in.Subject, in.Content, in.Direction
	if in.EngagementType != nil {
		e.EngagementType = in.EngagementType.Name
	}
	if in.StartTime != nil {
		e.StartTime = stamp(in.StartTime.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if in.EndTime != nil {
		e.EndTime = stamp(in.EndTime.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if in.Opportunity != nil {
		o := s.upsertOpportunity(&siro.SyncOpportunity{ExternalID: in.Opportunity.ExternalID, Name: in.Opportunity.Name,
			Amount: in.Opportunity.Amount, Disposition: in.Opportunity.Disposition}, true)
		e.OpportunityID = o.ID
	}
	if in.Account != nil && in.Account.ExternalID != "" {
		e.AccountID = s.upsertAccount(in.Account.ExternalID, in.Account.Name).ID
	}
	if in.EngagementUsers != nil {
		// The users a sync names become External Users, and the crm.users
		// of the engagement's recordings: "crm.users[] — linked External
		// Users; id is Siro-internal for that user row, externalId is the
		// id from your CRM" (quickstart, 4.2).
		var refs []siro.CRMRef
		for _, u := range in.EngagementUsers {
			if u.DeletedAt == nil {
				refs = append(refs, siro.CRMRef{ID: s.upsertCRMUser(&u), ExternalID: u.ExternalID})
			}
		}
		s.engUsers[e.ID] = refs
	}
	return e
}

// upsertCRMUser stores the External User a sync names, by externalId,
// and returns its Siro id. Call with s.mu held.
func (s *Server) upsertCRMUser(u *siro.SyncUser) string {
	var it map[string]any
	for _, c := range s.crmUsers.items {
		if c["externalId"] == u.ExternalID {
			it = c
			break
		}
	}
	if it == nil {
		id := s.nextID("crmuser")
		it = map[string]any{"id": id, "externalId": u.ExternalID}
		s.crmUsers.items[id] = it
	}
	if u.Email != "" {
		it["email"] = u.Email
	}
	if u.Name != "" {
		it["name"] = u.Name
	}
	return fmt.Sprint(it["id"])
}

func (s *Server) upsertAccount(ext, name string) *siro.Account {
	a, ok := s.accounts[ext]
	if !ok {
		a = &siro.Account{ID: s.nextID("acc"), ExternalID: ext, CreatedAt: s.nowTime(), Addresses: []json.RawMessage{}}
		s.accounts[ext] = a
	}
	if name != "" {
		a.Name = name
	}
	a.UpdatedAt = s.nowTime()
	return a
}

// upsertOpportunity: partial keeps fields when only an externalId is given.
func (s *Server) upsertOpportunity(in *siro.SyncOpportunity, partial bool) *siro.Opportunity {
	o, ok := s.opportunities[in.ExternalID]
	if !ok {
		o = &siro.Opportunity{ID: s.nextID("opp"), ExternalID: in.ExternalID, OrganizationID: s.OrganizationID, CreatedAt: s.nowTime()}
		s.opportunities[in.ExternalID] = o
	}
	o.UpdatedAt = s.nowTime()
	if in.Name != "" || !partial {
		name := in.Name
		o.Name = &name
	}
	if in.Amount != nil || !partial {
		o.Amount = in.Amount
	}
	if in.Disposition != "" || !partial {
		o.Disposition = in.Disposition
	}
	if in.Account != nil && in.Account.ExternalID != "" {
		o.AccountID = s.upsertAccount(in.Account.ExternalID, in.Account.Name).ID
	}
	return o
}

func (s *Server) softDelete(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ValidExternalIDs []string  `json:"validExternalIds"`
		FromTime         time.Time `json:"fromTime"`
		ToTime           time.Time `json:"toTime"`
	}
	if err := decodeBody(r, &in); err != nil || in.ValidExternalIDs == nil {
		writeIssues(w, []any{"validExternalIds"}, "Required")
		return
	}
	keep := map[string]bool{}
	for _, id := range in.ValidExternalIDs {
		keep[id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ext, e := range s.engagements {
		st, err := time.Parse(time.RFC3339, raw(e.StartTime))
		if err == nil && !keep[ext] && !st.Before(in.FromTime) && !st.After(in.ToTime) {
			delete(s.engagements, ext)
			s.deleted[ext] = true
		}
	}
	writeJSON(w, 200, map[string]any{"data": map[string]bool{"success": true}})
}

// page cuts a sorted list by an integer cursor.
func page[T any](items []T, cursor string, size int) ([]T, any) {
	start, _ := strconv.Atoi(cursor)
	if start < 0 {
		start = 0
	}
	if start > len(items) {
		start = len(items)
	}
	end := len(items)
	if size >= 0 && size < end-start { // no start+size: it can overflow
		end = start + size
	}
	var next any
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

func (s *Server) listEngagements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match := func(key, v string) bool { return q.Get(key) == "" || v == q.Get(key) }
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []engagementAnswer
	for _, e := range s.engagements {
		if match("externalId", e.ExternalID) && match("recordingId", e.RecordingID) {
			items = append(items, s.engagementAnswer(e))
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	data, next := page(items, q.Get("cursor"), 100)
	writeJSON(w, 200, map[string]any{"data": nonNil(data), "cursor": next, "pageSize": 100, "hasNextPage": next != nil})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) findEngagement(id string) (*siro.Engagement, bool) {
	for _, e := range s.engagements {
		if e.ID == id {
			return e, true
		}
	}
	return nil, false
}

func (s *Server) getEngagement(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.findEngagement(r.PathValue("id"))
	var out engagementAnswer
	if ok {
		out = s.engagementAnswer(e)
	}
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) deleteEngagement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Query().Get("idType") == "external" {
		_, ok := s.engagements[id]
		delete(s.engagements, id)
		writeJSON(w, 200, ok)
		return
	}
	e, ok := s.findEngagement(id)
	if ok {
		delete(s.engagements, e.ExternalID)
	}
	writeJSON(w, 200, ok)
}

// listOpportunities filters by externalId and by recordingId (the
// opportunities the recording is linked to: its crm.opportunity).
func (s *Server) listOpportunities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []opportunityAnswer
	for _, o := range s.opportunities {
		if (q.Get("externalId") == "" || o.ExternalID == q.Get("externalId")) &&
			(q.Get("recordingId") == "" || s.recordingLinksOpportunity(q.Get("recordingId"), o)) {
			items = append(items, s.opportunityAnswer(o))
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	data, next := page(items, q.Get("cursor"), 100)
	writeJSON(w, 200, map[string]any{"data": nonNil(data), "cursor": next})
}

// recordingLinksOpportunity reports whether the recording with id
// recordingID is linked to o. Call with s.mu held.
func (s *Server) recordingLinksOpportunity(recordingID string, o *siro.Opportunity) bool {
	if o.RecordingID == recordingID {
		return true
	}
	rec, ok := s.recordings[recordingID]
	return ok && rec.rec.CRM != nil && rec.rec.CRM.Opportunity != nil && rec.rec.CRM.Opportunity.ID == o.ID
}

func (s *Server) getOpportunity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.opportunities {
		if o.ID == r.PathValue("id") {
			writeJSON(w, 200, s.opportunityAnswer(o))
			return
		}
	}
	notFound(w)
}

func (s *Server) deleteOpportunity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ext, o := range s.opportunities {
		if o.ID == r.PathValue("id") {
			delete(s.opportunities, ext)
			writeJSON(w, 200, true)
			return
		}
	}
	writeJSON(w, 200, false)
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []accountAnswer{}
	for _, a := range s.accounts {
		items = append(items, accountOf(a))
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	writeJSON(w, 200, items)
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var in siro.AccountParams
	if err := decodeBody(r, &in); err != nil || in.ExternalID == "" {
		writeIssues(w, []any{"externalId"}, "Required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.upsertAccount(in.ExternalID, in.Name)
	a.Latitude, a.Longitude, a.PhoneNumbers, a.EmailAddresses = in.Latitude, in.Longitude, in.PhoneNumbers, in.EmailAddresses
	out := accountOf(a)
	writeJSON(w, 200, out)
}

func (s *Server) accountByID(id string) *siro.Account {
	for _, a := range s.accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accountByID(r.PathValue("id")); a != nil {
		writeJSON(w, 200, accountOf(a))
		return
	}
	notFound(w)
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) {
	var in siro.AccountParams
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountByID(r.PathValue("id"))
	if a == nil {
		notFound(w)
		return
	}
	if in.Name != "" {
		a.Name = in.Name
	}
	if in.Latitude != nil && in.Longitude != nil {
		a.Latitude, a.Longitude = in.Latitude, in.Longitude
	}
	if in.PhoneNumbers != nil {
		a.PhoneNumbers = in.PhoneNumbers
	}
	if in.EmailAddresses != nil {
		a.EmailAddresses = in.EmailAddresses
	}
	a.UpdatedAt = s.nowTime()
	writeJSON(w, 200, accountOf(a))
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accountByID(r.PathValue("id")); a != nil {
		delete(s.accounts, a.ExternalID)
		writeJSON(w, 200, true)
		return
	}
	writeJSON(w, 200, false)
}

// listRecordings serves GET /v1/core/recordings with the documented
// filters: createdAt:gt and createdAt:lt (exclusive), updatedAt:gt and
// updatedAt:lt (exclusive), updatedAt:gte and updatedAt:lte (inclusive),
// and isProcessingDone, isSummaryDone and isEntityExtractionDone; pages of
// pageSize (default 25) by updatedAt. The cursor names the last recording
// of the page (its updatedAt and id), not an offset, so a recording
// updated while a client pages moves behind the cursor and is listed
// again rather than shifting another one out of sight. A malformed value
// is answered 400.
func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) {
	in := readQuery(r)
	created := timeBounds{After: in.time("createdAt:gt"), Before: in.time("createdAt:lt")}
	updated := timeBounds{After: in.time("updatedAt:gt"), Before: in.time("updatedAt:lt"),
		AtOrAfter: in.time("updatedAt:gte"), AtOrBefore: in.time("updatedAt:lte")}
	processing, summary, extraction := in.boolean("isProcessingDone"), in.boolean("isSummaryDone"), in.boolean("isEntityExtractionDone")
	size := in.size("pageSize", 25, 1, 0)
	after, afterOK := in.keyCursor("cursor")
	if in.reject(w) {
		return
	}
	is := func(want *bool, got bool) bool { return want == nil || *want == got }
	q := in.q
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []recordingAnswer
	for _, rec := range s.recordings {
		v := s.recordingView(rec, q)
		if !created.admit(instant(rec.rec.CreatedAt)) || !updated.admit(instant(rec.rec.UpdatedAt)) ||
			!is(processing, v.IsProcessingDone) || !is(summary, v.IsSummaryDone) || !is(extraction, v.IsEntityExtractionDone) {
			continue
		}
		if afterOK && (pageKey{v.UpdatedAt, v.ID}).cmp(after) <= 0 {
			continue
		}
		items = append(items, v)
	}
	sort.Slice(items, func(i, j int) bool {
		return (pageKey{items[i].UpdatedAt, items[i].ID}).cmp(pageKey{items[j].UpdatedAt, items[j].ID}) < 0
	})
	var next any
	if len(items) > size {
		items = items[:size]
		last := items[size-1]
		next = pageKey{last.UpdatedAt, last.ID}.cursor()
	}
	writeJSON(w, 200, map[string]any{"data": nonNil(items), "cursor": next})
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request, rec *recording) {
	writeJSON(w, 200, s.recordingView(rec, r.URL.Query()))
}

func (s *Server) getSummaries(w http.ResponseWriter, r *http.Request, rec *recording) {
	writeJSON(w, 200, nonNil(rec.doneSummary()))
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) {
	var in siro.CreateOAuthAppParams
	if err := decodeBody(r, &in); err != nil || in.AppName == "" {
		writeIssues(w, []any{"appName"}, "Required")
		return
	}
	id, secret := s.CreateOAuthApp()
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[id]
	app.name = in.AppName
	if in.Owner != "" {
		app.owner = in.Owner
	}
	writeJSON(w, 201, map[string]string{"appName": in.AppName, "clientID": id, "clientSecret": secret})
}

func (s *Server) mintToken(w http.ResponseWriter, r *http.Request) {
	var in siro.CreateAccessTokenParams
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return
	}
	if in.UserID == "" || (in.Scope != siro.ScopeRead && in.Scope != siro.ScopeWrite) {
		writeIssues(w, []any{"userId"}, "Required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.appSecret(r.PathValue("clientId"), in.ClientSecret); !ok {
		writeErr(w, 401, "Unauthorized - User not authenticated")
		return
	}
	s.seq++
	id := fmt.Sprintf("tok_%d", s.seq)
	tok := fmt.Sprintf("sirotest-access-%d-%d", s.seq, time.Now().UnixNano())
	s.tokens[tok] = userToken{id: id, userID: in.UserID, clientID: r.PathValue("clientId"), scope: in.Scope, created: s.clock.Now(), expires: s.clock.Now().Add(s.tokenTTL)}
	s.tokenInfo[id] = tok
	writeJSON(w, 201, map[string]string{"accessTokenId": id, "accessToken": tok})
}

// appSecret reports whether clientID names an app that is not deleted
// and secret is its client secret. Call with s.mu held.
func (s *Server) appSecret(clientID, secret string) (*oauthApp, bool) {
	app, ok := s.apps[clientID]
	return app, ok && app.deleted.IsZero() && app.secret == secret
}

// appToken returns the token tokenID of app clientID, revoked or not, and
// answers 404 when there is none. Call with s.mu held.
func (s *Server) appToken(w http.ResponseWriter, clientID, tokenID string) (string, userToken, bool) {
	tok, ok := s.tokenInfo[tokenID]
	info := s.tokens[tok]
	if !ok || info.clientID != clientID {
		notFound(w)
		return "", userToken{}, false
	}
	return tok, info, true
}

// getToken answers a token's metadata, revokedAt set once it is revoked.
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, info, ok := s.appToken(w, r.PathValue("clientId"), r.PathValue("tokenId")); ok {
		writeJSON(w, 200, map[string]any{"data": s.tokenAnswer(info)})
	}
}

// revokeToken soft-deletes (revokes) a token, as Siro documents: the body
// must carry the app's clientSecret and the userId the token was minted
// for. Afterwards the token no longer authenticates, and GET and the
// token list still answer it, with revokedAt set. Siro declares no error
// answer for this operation; the fake answers as for its siblings: 422
// for a body without clientSecret or userId, 401 for an unknown or
// deleted app or a wrong secret (as minting does), 404 for a token the
// app does not hold, and 403 when the token belongs to another user.
// Revoking again keeps the first revokedAt.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientSecret string `json:"clientSecret"`
		UserID       string `json:"userId"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return
	}
	switch {
	case in.ClientSecret == "":
		writeIssues(w, []any{"clientSecret"}, "Required")
		return
	case in.UserID == "":
		writeIssues(w, []any{"userId"}, "Required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("tokenId")
	if _, ok := s.appSecret(r.PathValue("clientId"), in.ClientSecret); !ok {
		writeErr(w, 401, errorMessages[401])
		return
	}
	tok, info, ok := s.appToken(w, r.PathValue("clientId"), id)
	if !ok {
		return
	}
	if info.userID != in.UserID {
		writeErr(w, 403, errorMessages[403])
		return
	}
	if info.revoked.IsZero() {
		info.revoked = s.clock.Now()
		s.tokens[tok] = info
	}
	writeJSON(w, 200, map[string]string{"tokenId": id})
}

// tokenAnswer is the document's OAuthAccessToken. Call with s.mu held.
func (s *Server) tokenAnswer(info userToken) map[string]any {
	updated, revoked := info.created, any(nil)
	if !info.revoked.IsZero() {
		updated, revoked = info.revoked, info.revoked.UTC().Format(time.RFC3339)
	}
	return map[string]any{"accessTokenId": info.id, "oAuthAppId": info.clientID, "userId": info.userID,
		"audience": siro.DefaultUserBaseURL, "subject": info.userID, "scope": info.scope,
		"expiresAt": info.expires.UTC().Format(time.RFC3339), "createdAt": info.created.UTC().Format(time.RFC3339),
		"updatedAt": updated.UTC().Format(time.RFC3339), "revokedAt": revoked}
}

// --- user API ----------------------------------------------------------------

func (s *Server) userMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/core/recordings/{id}", s.onRecording("id", s.recordingDetails))
	mux.HandleFunc("GET /v1/core/recordings/{id}/utterances", s.onRecording("id", s.utterances))
	mux.HandleFunc("GET /v1/core/entities/extractions/{recordingId}", s.onRecording("recordingId", s.extractions))
	mux.HandleFunc("PUT /v1/core/recordings/{id}/link", s.link)
	mux.HandleFunc("DELETE /v1/core/recordings/{id}/link", s.link)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if documentedRoute(false, r.Method, r.URL.Path) {
			notServed(w, r)
			return
		}
		writeJSON(w, 404, map[string]any{"code": 404, "message": "The current request is not defined by this API."})
	})
	return mux
}

func (s *Server) recordingDetails(w http.ResponseWriter, r *http.Request, rec *recording) {
	q := r.URL.Query()
	d := detailsAnswer{ID: rec.rec.ID, DateCreated: raw(rec.rec.CreatedAt), TranscriptionStatus: siro.TranscriptionComplete,
		ProcessingStatus: siro.ProcessingComplete, ProcessingStage: siro.StageDone, OrganizationID: s.OrganizationID,
		UserID: rec.rec.UserID, Title: rec.rec.Title, DurationInMilliseconds: rec.rec.DurationInMilliseconds,
		TranscriptionLanguage: siro.LanguageEnglish}
	if !rec.processed {
		d.TranscriptionStatus, d.ProcessingStatus, d.ProcessingStage = siro.TranscriptionTranscribing, siro.ProcessingInProgress, siro.StageProcessing
	}
	if q.Get("showCrmOpportunities") == "true" {
		d.CRMOpportunities = s.crmOpportunities(rec)
	}
	if q.Get("showEvaluationScore") == "true" {
		score := rec.evaluationScore
		d.EvaluationScore = &score
	}
	if q.Get("showFollowups") == "true" {
		d.Followups = []json.RawMessage{}
	}
	if q.Get("showSummary") == "true" {
		var parts []string
		for _, sec := range rec.doneSummary() {
			parts = append(parts, sec.Name+": "+sec.Content)
		}
		d.Summary = strings.Join(parts, "\n")
	}
	if q.Get("showEntityExtractions") == "true" && rec.processed { // in-progress extractions are omitted
		d.EntityExtractions = []extractionAnswer{s.extractionRecord(rec)}
	}
	writeJSON(w, 200, map[string]any{"data": d})
}

func (s *Server) extractionRecord(rec *recording) extractionAnswer {
	status := siro.ExtractionSuccess
	if !rec.processed {
		status = siro.ExtractionInProgress
	}
	return extractionAnswer{ID: uuidFor("extraction:" + rec.rec.ID), RecordingID: rec.rec.ID,
		SiroEntityDefinitionID: uuidFor("definition:crm-fields"), SiroEntityDefinitionName: "CRM fields", Status: status,
		Extraction: extractedFields(rec.doneExtractions()), CreatedAt: raw(rec.rec.CreatedAt), UpdatedAt: raw(rec.rec.UpdatedAt), Mappings: []siro.CRMMapping{}}
}

// crmOpportunities lists the opportunity a recording is linked to, as
// showCrmOpportunities does.
func (s *Server) crmOpportunities(rec *recording) []siro.CRMOpportunity {
	out := []siro.CRMOpportunity{}
	if rec.rec.CRM == nil || rec.rec.CRM.Opportunity == nil {
		return out
	}
	o, ok := s.opportunities[rec.rec.CRM.Opportunity.ExternalID]
	if !ok {
		return out
	}
	ext, platform, integration := o.ExternalID, string(siro.PlatformSiroCustomInput), "sirotest"
	disp := string(o.Disposition)
	c := siro.CRMOpportunity{OpportunityExternalID: &ext, Name: o.Name, Amount: o.Amount, IntegrationName: &integration,
		IntegrationPlatform: &platform, Disposition: &disp}
	if a := s.accountByID(o.AccountID); a != nil {
		c.AccountID, c.AccountExternalID = &a.ID, &a.ExternalID
		name := a.Name
		c.AccountName = &name
	}
	return append(out, c)
}

// utterances serves a transcript in pages: cursor is the 1-based page
// number (default 1) and pageSize the utterances per page (default
// 100000), as Siro documents them; the answer's cursor is the next page's
// number, null on the last page. A malformed cursor or page size is
// answered 400. An unprocessed recording has no utterances yet (Siro's
// "not processed yet").
func (s *Server) utterances(w http.ResponseWriter, r *http.Request, rec *recording) {
	in := readQuery(r)
	pageNo := in.size("cursor", 1, 1, 0)
	size := in.size("pageSize", 100000, 1, 0)
	if in.reject(w) {
		return
	}
	speakers := rec.speakers
	if speakers == nil || !rec.processed {
		speakers = map[string]string{}
	}
	all := utteranceAnswers(rec.doneUtterances())
	start := len(all) // past the end; also when (pageNo-1)*size would overflow
	if pageNo-1 <= len(all)/size {
		start = min(len(all), (pageNo-1)*size)
	}
	end := start + min(size, len(all)-start)
	var next any
	if end < len(all) {
		next = pageNo + 1
	}
	writeJSON(w, 200, map[string]any{"data": map[string]any{"utterances": all[start:end], "isLowDataMode": false, "speakerMap": speakers},
		"pageSize": size, "cursor": next})
}

func (s *Server) extractions(w http.ResponseWriter, r *http.Request, rec *recording) {
	writeJSON(w, 200, map[string]any{"data": []extractionAnswer{s.extractionRecord(rec)}, "cursor": nil})
}

// link serves PUT (link) and DELETE (unlink) /v1/core/recordings/{id}/link.
// Both name the CRM object by Siro's id or by externalId with the
// integration connection; the fake looks it up among what was synced. A
// PUT answers its Siro id, externalId and name, and makes it the
// recording's link of that type (the recording's crm block, and the
// engagement's recordingId for an engagement), marking the recording
// linked. A DELETE removes only that object's link and answers data true,
// or false when the recording was not linked to it; the recording is
// unlinked once it names no CRM object. An object the fake does not hold
// is an error inside a 200 for both.
func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	var in siro.LinkTarget
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return
	}
	if (in.ID == "") == (in.ExternalID == "") || (in.ExternalID != "" && in.IntegrationConnectionID == "") || in.DataType == "" {
		writeIssues(w, []any{"id"}, "Send exactly one of id or externalId (with integrationConnectionId)")
		return
	}
	switch in.DataType { // RecordingLinkBody.dataType's documented members
	case siro.DataAccount, siro.DataLead, siro.DataOpportunity, siro.DataEngagement, siro.DataContact:
	default:
		writeIssues(w, []any{"dataType"}, "Invalid enum value. Expected 'ACCOUNT' | 'LEAD' | 'OPPORTUNITY' | 'ENGAGEMENT' | 'CONTACT'")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recordings[r.PathValue("id")]
	if !ok {
		// Siro reports some link failures inside a 200.
		writeJSON(w, 200, map[string]any{"error": "Recording not found", "details": map[string]string{"recordingId": r.PathValue("id")}})
		return
	}
	obj, ok := s.crmObject(&in)
	if ok && r.Method == http.MethodDelete {
		// Only the named object's link goes; data is false when the
		// recording was not linked to it (nothing removed).
		writeJSON(w, 200, map[string]any{"data": s.unlink(rec, in.DataType, obj.ID)})
		return
	}
	if !ok {
		// Siro documents no answer for a CRM object it does not hold; the
		// only failure this route documents is an error inside a 200, so
		// the fake answers as it does for an unknown recording.
		details := map[string]string{"dataType": string(in.DataType)}
		if in.ID != "" {
			details["id"] = in.ID
		} else {
			details["externalId"], details["integrationConnectionId"] = in.ExternalID, in.IntegrationConnectionID
		}
		writeJSON(w, 200, map[string]any{"error": "CRM object not found", "details": details})
		return
	}
	// Siro "clears prior links as needed" without saying which: the fake
	// replaces the link of the same type and keeps the others (linking an
	// engagement keeps the opportunity and account links).
	crm := siro.CRMLinks{IntegrationConnectionID: s.IntegrationConnectionID}
	if rec.rec.CRM != nil {
		crm = *rec.rec.CRM
	}
	ref := &siro.CRMRef{ID: obj.ID, ExternalID: obj.ExternalID}
	switch in.DataType {
	case siro.DataEngagement:
		crm.Engagement = ref
	case siro.DataOpportunity:
		crm.Opportunity = ref
	case siro.DataAccount:
		crm.Account = ref
	}
	s.setLinks(rec, &crm)
	writeJSON(w, 200, map[string]any{"data": obj})
}

// unlink removes the recording's link of type dt to the object with Siro
// id id and reports whether there was one. The recording stays linked
// while it names any CRM object. Call with s.mu held.
func (s *Server) unlink(rec *recording, dt siro.DataType, id string) bool {
	if rec.rec.CRM == nil {
		return false
	}
	crm := *rec.rec.CRM
	slot := map[siro.DataType]**siro.CRMRef{siro.DataEngagement: &crm.Engagement, siro.DataOpportunity: &crm.Opportunity,
		siro.DataAccount: &crm.Account}[dt]
	if slot == nil || *slot == nil || (*slot).ID != id {
		return false
	}
	*slot = nil
	if crm.Engagement == nil && crm.Opportunity == nil && crm.Account == nil {
		s.setLinks(rec, nil)
	} else {
		s.setLinks(rec, &crm)
	}
	return true
}

// crmObject finds the synced CRM object a link target names: by Siro's
// id, or by externalId under the fake's integration connection. The fake
// holds engagements, opportunities and accounts (no leads or contacts).
// Call with s.mu held.
func (s *Server) crmObject(in *siro.LinkTarget) (linkedAnswer, bool) {
	if in.ExternalID != "" && in.IntegrationConnectionID != s.IntegrationConnectionID {
		return linkedAnswer{}, false
	}
	found := func(id, ext, name string, updated webhook.Time) (linkedAnswer, bool) {
		last := raw(updated)
		if last == "" {
			last = s.now()
		}
		return linkedAnswer{ID: id, ExternalID: ext, DataType: in.DataType, Name: name, LastActivityAt: last}, true
	}
	switch in.DataType {
	case siro.DataEngagement:
		e, ok := s.engagements[in.ExternalID]
		if in.ID != "" {
			e, ok = s.findEngagement(in.ID)
		}
		if ok {
			return found(e.ID, e.ExternalID, e.Subject, e.UpdatedAt)
		}
	case siro.DataOpportunity:
		o, ok := s.opportunities[in.ExternalID]
		if in.ID != "" {
			o, ok = nil, false
			for _, c := range s.opportunities {
				if c.ID == in.ID {
					o, ok = c, true
				}
			}
		}
		if ok {
			var name string
			if o.Name != nil {
				name = *o.Name
			}
			return found(o.ID, o.ExternalID, name, o.UpdatedAt)
		}
	case siro.DataAccount:
		a, ok := s.accounts[in.ExternalID]
		if in.ID != "" {
			a = s.accountByID(in.ID)
			ok = a != nil
		}
		if ok {
			return found(a.ID, a.ExternalID, a.Name, a.UpdatedAt)
		}
	}
	return linkedAnswer{}, false
}

// --- recordings and webhooks ---------------------------------------------------

// Conversation describes what the fake "recorded".
type Conversation struct {
	Title       string
	UserID      string
	Summary     []siro.SummarySection
	Extractions []siro.ExtractedField
	Utterances  []siro.Utterance
	Speakers    map[string]string
	// Latitude and Longitude are where it was recorded (default: New York).
	Latitude, Longitude float64
	// Processed and Linked start the recording processed (transcript,
	// summary and entity extraction done) and definitively linked to the
	// engagement's CRM records. By default it is neither, as a recording
	// Siro has just received; MarkProcessed, MarkLinked and
	// DeliverWebhooks change that later.
	Processed, Linked bool
}

// Recorded is the recording the fake created.
type Recorded struct {
	RecordingID string
	// Engagement is the engagement as Record left it (its RecordingID is
	// set only when the recording started linked).
	Engagement siro.Engagement
	// CRM is what the recording is linked to once linked: the engagement,
	// its opportunity and account, and its synced users.
	CRM siro.CRMLinks
}

// Record makes a recording for the engagement with CRM externalId
// engagementExternalID, with the conversation's summary, extractions and
// transcript. It starts unprocessed and unlinked unless c says otherwise:
// mark it processed or linked with MarkProcessed and MarkLinked, or let
// DeliverWebhooks do it as it sends each event. Once linked, the
// recording's crm block names the engagement, its opportunity, its
// account and the users it was synced with (engagementUsers, as External
// Users: a Siro id and their externalId), and the engagement's
// recordingId is set.
func (s *Server) Record(engagementExternalID string, c Conversation) (*Recorded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.engagements[engagementExternalID]
	if !ok {
		return nil, fmt.Errorf("sirotest: no engagement with externalId %q", engagementExternalID)
	}
	s.seq++
	id := uuidFor(fmt.Sprintf("recording:%d", s.seq))
	crm := siro.CRMLinks{IntegrationConnectionID: s.IntegrationConnectionID, Engagement: &siro.CRMRef{ID: e.ID, ExternalID: e.ExternalID},
		Users: append([]siro.CRMRef(nil), s.engUsers[e.ID]...)}
	for ext, o := range s.opportunities {
		if o.ID == e.OpportunityID {
			crm.Opportunity = &siro.CRMRef{ID: o.ID, ExternalID: ext}
		}
	}
	for ext, a := range s.accounts {
		if a.ID == e.AccountID {
			crm.Account = &siro.CRMRef{ID: a.ID, ExternalID: ext}
		}
	}
	rec := &recording{
		rec: siro.Recording{ID: id, OrganizationID: s.OrganizationID, UserID: c.UserID, Title: c.Title, DurationInMilliseconds: 1800000,
			Result: siro.DispositionOpen, CreatedAt: s.nowTime(), UpdatedAt: s.nowTime()},
		summary: c.Summary, extractions: c.Extractions, utterances: c.Utterances, speakers: c.Speakers, processed: c.Processed,
		match: crm, latitude: c.Latitude, longitude: c.Longitude, evaluationScore: 87,
	}
	if c.Latitude == 0 && c.Longitude == 0 {
		rec.latitude, rec.longitude = 40.7128, -74.006 // a rep in the field, New York
	}
	rec.rec.Links.Web.Self = "https://app.siro.ai/recordings/" + id
	s.recordings[id] = rec
	if c.Linked {
		s.linkMatch(rec)
	}
	return &Recorded{RecordingID: id, Engagement: *e, CRM: crm}, nil
}

// MarkProcessed marks the recording processed, as when Siro finishes its
// transcript, summary and entity extraction: isProcessingDone,
// isSummaryDone and isEntityExtractionDone become true, its updatedAt
// moves to now, and later webhook payloads say recordingProcessed: true.
// It sends no webhook (DeliverWebhooks does).
func (s *Server) MarkProcessed(recordingID string) error {
	return s.mark(recordingID, func(rec *recording) {
		if !rec.processed {
			rec.processed = true
			rec.rec.UpdatedAt = s.nowTime()
		}
	})
}

// MarkLinked marks the recording definitively linked to the CRM records
// of the engagement it was recorded for (Recorded.CRM): its crm block is
// set, the engagement's recordingId names it, its updatedAt moves to now,
// and later webhook payloads say recordingLinked: true and carry the crm
// block. It sends no webhook (DeliverWebhooks does).
func (s *Server) MarkLinked(recordingID string) error {
	return s.mark(recordingID, func(rec *recording) {
		if !rec.linked {
			s.linkMatch(rec)
		}
	})
}

// mark changes a recording's state under the lock.
func (s *Server) mark(recordingID string, change func(*recording)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recordings[recordingID]
	if !ok {
		return fmt.Errorf("sirotest: no recording %q", recordingID)
	}
	change(rec)
	return nil
}

// linkMatch links rec to the records it matched (rec.match), keeping any
// link already made through the link API. Call with s.mu held.
func (s *Server) linkMatch(rec *recording) {
	crm := rec.match
	if cur := rec.rec.CRM; cur != nil {
		crm = *cur
		if crm.Engagement == nil {
			crm.Engagement = rec.match.Engagement
		}
		if crm.Opportunity == nil {
			crm.Opportunity = rec.match.Opportunity
		}
		if crm.Account == nil {
			crm.Account = rec.match.Account
		}
	}
	s.setLinks(rec, &crm)
}

// setLinks makes crm the recording's CRM links and marks it linked (nil:
// unlinked); the engagement it names gets its recordingId, one it no
// longer names loses it. Call with s.mu held.
func (s *Server) setLinks(rec *recording, crm *siro.CRMLinks) {
	if old := rec.rec.CRM; old != nil && old.Engagement != nil && (crm == nil || crm.Engagement == nil || crm.Engagement.ID != old.Engagement.ID) {
		if e, ok := s.findEngagement(old.Engagement.ID); ok && e.RecordingID == rec.rec.ID {
			e.RecordingID = ""
			e.UpdatedAt = s.nowTime()
		}
	}
	rec.rec.CRM, rec.linked = crm, crm != nil
	rec.rec.UpdatedAt = s.nowTime()
	if crm != nil && crm.Engagement != nil {
		if e, ok := s.findEngagement(crm.Engagement.ID); ok && e.RecordingID != rec.rec.ID {
			e.RecordingID = rec.rec.ID
			e.UpdatedAt = s.nowTime()
		}
	}
}

// Payload builds the webhook body Siro would send for a recording now:
// recordingProcessed and recordingLinked as they are at this moment
// (whichever event it is), and the crm block when the recording is
// linked. For an unlinked recording the body has no crm key at all: the
// webhook schema makes crm optional, and Siro populates it on
// recordingProcessed only "if the recording is also definitively linked";
// the fake omits it rather than send null.
func (s *Server) Payload(recordingID string, eventType siro.EventType) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recordings[recordingID]
	if !ok {
		return nil, fmt.Errorf("sirotest: no recording %q", recordingID)
	}
	p := map[string]any{"recordingId": recordingID, "siroUserId": rec.rec.UserID, "recordingProcessed": rec.processed,
		"recordingLinked": rec.linked, "eventType": eventType}
	if rec.linked && rec.rec.CRM != nil {
		p["crm"] = rec.rec.CRM
	}
	return json.Marshal(p)
}

// Delivery is one webhook to send: the event type and how many times.
type Delivery struct {
	// Type is the event type (siro.EventRecordingProcessed, ...).
	Type siro.EventType
	// Times is how often to send it (0 means once); more than 1 resends
	// with the same svix-id, as a Svix redelivery does.
	Times int
}

// DeliverWebhooks sends the recording's webhooks to url in the given
// order, Svix-signed with WebhookSecret, and returns the status codes.
// Siro sends integrations.recordingProcessed when it finishes processing
// a recording and integrations.recordingLinked when it links it, so each
// delivery first marks the recording processed (MarkProcessed) or linked
// (MarkLinked), then sends both flags as they are at that moment: the
// first of the two events says false for the other condition unless it
// already holds. Other event types change nothing. The svix-id of a
// message is derived from its body (MessageID), so delivering the same
// body again, here (Times) or to another replica, is the same Svix
// message redelivered.
func (s *Server) DeliverWebhooks(ctx context.Context, url, recordingID string, order ...Delivery) ([]int, error) {
	var codes []int
	snd := s.Sender()
	snd.Client = s.httpClient
	for _, d := range order {
		var err error
		switch d.Type {
		case siro.EventRecordingProcessed:
			err = s.MarkProcessed(recordingID)
		case siro.EventRecordingLinked:
			err = s.MarkLinked(recordingID)
		}
		if err != nil {
			return codes, err
		}
		body, err := s.Payload(recordingID, d.Type)
		if err != nil {
			return codes, err
		}
		for range max(d.Times, 1) {
			code, err := snd.Deliver(ctx, url, body)
			if err != nil {
				return codes, err
			}
			codes = append(codes, code)
		}
	}
	return codes, nil
}

// syncOne serves a single sync: 422 without an externalId, else {data}.
func syncOne[T any](s *Server, id func(*T) string, upsert func(*T) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		if err := decodeBody(r, &in); err != nil {
			writeErr(w, 400, badParams)
			return
		}
		if id(&in) == "" {
			writeIssues(w, []any{"externalId"}, "Required")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		out := upsert(&in)
		writeJSON(w, 200, map[string]any{"data": out})
	}
}

// syncBatch serves a batch sync: 422 naming the first record without an
// externalId (nothing is stored), else {data: [...]}.
func syncBatch[T any](s *Server, id func(*T) string, upsert func(*T) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in []T
		if err := decodeBody(r, &in); err != nil {
			writeErr(w, 400, badParams)
			return
		}
		for i := range in {
			if id(&in[i]) == "" {
				writeIssues(w, []any{i, "externalId"}, "Required")
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		out := make([]any, len(in))
		for i := range in {
			out[i] = upsert(&in[i])
		}
		writeJSON(w, 200, map[string]any{"data": out})
	}
}

// nowTime is now() as a webhook.Time.
func (s *Server) nowTime() webhook.Time { return stamp(s.now()) }

// stamp is a webhook.Time holding the text the fake answers.
func stamp(v string) webhook.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	return webhook.Time{Time: t, Raw: v, Valid: err == nil}
}

// raw is the text a stored webhook.Time is answered with ("" when unset).
func raw(t webhook.Time) string {
	switch {
	case t.Raw != "":
		return t.Raw
	case t.IsZero():
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
