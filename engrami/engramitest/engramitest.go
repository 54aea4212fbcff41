// Package engramitest is a fake Engrami API on httptest for the endpoints
// the engrami package types: incoming webhooks, tools and tool tests, OAuth
// providers, actions and secrets.
//
//	fake := engramitest.New()
//	defer fake.Close()
//	c, err := fake.Client() // engrami.WithToken(fake.Token), WithBaseURL(fake.BaseURL())
//	if err != nil {
//		t.Fatal(err)
//	}
//	err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_test"})
//	if err != nil {
//		t.Fatal(err)
//	}
//	// fake.Requests() lists what the client sent.
//
// It answers the shapes of Engrami's custom-integrations page: an incoming
// webhook is created as a bare {"id", "url", "secret"}, a tool test answers
// a bare {"success", "response_time_ms", "response"}, and errors use the
// API overview's {"success": false, "error": {"code", "message",
// "details"}}. The page shows no answer for tools, OAuth providers,
// actions and secrets; the fake answers 201 with the definition it stored
// (secret values withheld). WithEnvelope wraps successes in the overview's
// {"success": true, "data": ...} instead, as Engrami's overview page
// says every answer is; clients must accept both.
//
// It checks the bearer token, required fields and the JSON type of every
// field the page shows, sends X-RateLimit-* headers, rate-limits (a
// per-minute budget or the next n requests; a request with a wrong key is
// not charged), injects faults and latency, records every API request,
// and receives signed events on the incoming-webhook URLs it hands out,
// verifying them. NewSender signs deliveries to those URLs as
// engrami.Sender does, with the webhooktest.Sender every vendor's test
// package returns.
package engramitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/fakeserver"
	"github.com/callcrm/callcrm-go/internal/fault"
	"github.com/callcrm/callcrm-go/webhook"
)

// Request is one recorded API request.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// Server is a fake Engrami. Safe for concurrent use.
type Server struct {
	*httptest.Server
	// Token is the accepted API key.
	Token string
	// Wrap, when true, wraps success answers in the API overview's
	// {"success": true, "data": ...} envelope (see WithEnvelope). Set it
	// before the first request.
	Wrap bool

	clock   webhook.Clock
	latency time.Duration
	ln      net.Listener // WithListener (listen.go)

	mu        sync.Mutex
	requests  []Request
	tools     map[string]json.RawMessage
	results   map[string]json.RawMessage // tool name -> test response
	secrets   map[string]string
	hooks     map[string]string // id -> secret
	received  map[string][][]byte
	limit     int
	remaining int
	window    time.Time
	reset     time.Time
	limited   int
	faults    fault.Set
	seq       int
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the accepted API key (default "engrami-test-token").
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithEnvelope wraps success answers in {"success": true, "data": ...}.
func WithEnvelope() Option { return func(s *Server) { s.Wrap = true } }

// WithRateLimit sets the per-minute budget reported in X-RateLimit-Limit
// and enforced with 429 (default 600, Engrami's Pro plan; Free is 60). A
// budget below 0 is 0: every request is answered 429.
func WithRateLimit(perMinute int) Option { return func(s *Server) { s.limit = max(perMinute, 0) } }

// WithClock sets the clock for rate-limit windows and timestamps.
func WithClock(c webhook.Clock) Option {
	return func(s *Server) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithLatency delays every API answer by d (real time); a request whose
// client leaves meanwhile ends unanswered, so Close does not wait it out.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// New starts a fake Engrami; its API base URL is BaseURL(). Close it when
// done.
func New(opts ...Option) *Server {
	s := &Server{Token: "engrami-test-token", tools: map[string]json.RawMessage{}, results: map[string]json.RawMessage{},
		secrets: map[string]string{}, hooks: map[string]string{}, received: map[string][][]byte{}, limit: 600}
	for _, o := range opts {
		o(s)
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	s.remaining = s.limit
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/webhooks/incoming", s.auth(s.createHook))
	mux.HandleFunc("POST /api/v1/tools", s.auth(s.createTool))
	mux.HandleFunc("POST /api/v1/tools/{name}/test", s.auth(s.testTool))
	mux.HandleFunc("POST /api/v1/integrations/oauth/providers", s.auth(s.create([]string{"client_secret"}, providerFields)))
	mux.HandleFunc("POST /api/v1/integrations/actions", s.auth(s.create(nil, actionFields)))
	mux.HandleFunc("POST /api/v1/secrets", s.auth(s.createSecret))
	mux.HandleFunc("POST /in/{id}", s.receive)
	mux.HandleFunc("/in/", s.notHook)
	mux.HandleFunc("/", s.auth(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		s.fail(w, 404, "not_found", "no such endpoint", nil)
	}))
	s.Server = fakeserver.Start(mux, s.ln)
	return s
}

// BaseURL is the API root to pass to engrami.WithBaseURL.
func (s *Server) BaseURL() string { return s.URL + "/api/v1" }

// Client returns an engrami.Client wired to the fake with its token; add
// options (WithTenantID, WithClock, WithRetry, ...) as needed.
func (s *Server) Client(opts ...engrami.Option) (*engrami.Client, error) {
	return engrami.NewClient(append([]engrami.Option{engrami.WithToken(s.Token), engrami.WithBaseURL(s.BaseURL())}, opts...)...)
}

// RateLimitNext makes the next n API requests answer 429 with
// X-RateLimit-Reset at reset.
func (s *Server) RateLimitNext(n int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.reset = n, reset
}

// Fail makes the next n requests matching route answer status with
// Engrami's error envelope, on every URL the fake serves (the API under
// /api/v1 and the incoming-webhook URLs under /in/). route is "PATH" or
// "METHOD PATH", PATH a prefix of the path as Engrami's documentation
// writes it ("/api/v1/secrets", "/in/wh_in_abc123"), "" for every
// request; sirotest.Server.Fail has the same semantics. No Retry-After is
// sent unless RetryAfter is given. status must be 200 to 599 (a 2xx
// answers the error envelope with a success status) and n not negative;
// otherwise Fail adds nothing and returns an error naming the value.
func (s *Server) Fail(route string, status, n int, opts ...FaultOption) error {
	var retry time.Duration
	for _, o := range opts {
		retry = o.retryAfter
	}
	return s.faults.Fail("engramitest", route, status, n, retry)
}

// FaultOption adjusts an injected fault.
type FaultOption struct{ retryAfter time.Duration }

// RetryAfter makes an injected fault carry a Retry-After header of d
// (whole seconds).
func RetryAfter(d time.Duration) FaultOption { return FaultOption{retryAfter: d} }

// SetToolResult sets what testing the named tool answers as "response"
// (default: {"echo": <the parameters>}).
func (s *Server) SetToolResult(name string, response any) error {
	b, err := json.Marshal(response)
	if err != nil {
		return fmt.Errorf("engramitest: tool result: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[name] = b
	return nil
}

// RequestCount returns how many API requests the fake received, as
// sirotest.Server.RequestCount does for Siro's fake.
func (s *Server) RequestCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.requests))
}

// Requests returns the API requests received so far: copies, the
// caller's to change.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header, r.Body = r.Header.Clone(), bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Secret returns a stored secret's value.
func (s *Server) Secret(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[name]
	return v, ok
}

// Received returns the verified events an incoming webhook got: copies,
// the caller's to change.
func (s *Server) Received(hookID string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, b := range s.received[hookID] {
		out = append(out, bytes.Clone(b))
	}
	return out
}

// locked runs f under the fake's lock, released even if f panics.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// ok answers a success: bare, or in the envelope when Wrap is set.
func (s *Server) ok(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s.Wrap {
		v = map[string]any{"success": true, "data": v}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// errorCodes are the overview's error codes by status.
var errorCodes = map[int]string{400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
	429: "rate_limited", 500: "internal_error"}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string, details map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"code": code, "message": msg}
	if details != nil {
		e["details"] = details
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": e})
}

// injected answers an injected fault with Engrami's error envelope.
func (s *Server) injected(w http.ResponseWriter, f fault.Rule) {
	f.Header(w)
	code, ok := errorCodes[f.Status]
	if !ok {
		code = "internal_error"
	}
	s.fail(w, f.Status, code, http.StatusText(f.Status), nil)
}

func (s *Server) auth(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The body is read first: net/http notices a client that left (and
		// ends r's context) only once the body is read.
		body, tooBig := readBody(r)
		if !fakeserver.Delay(r.Context(), s.latency) {
			return // the client left: nothing to answer
		}
		authed := r.Header.Get("Authorization") == "Bearer "+s.Token
		limited := s.admit(w, r, body, authed)
		// A rejected request consumes nothing meant for another: a 401 no
		// budget, RateLimitNext count or fault, a 429 no fault.
		if !authed {
			s.fail(w, 401, "unauthorized", "invalid API key", nil)
			return
		}
		if limited {
			s.fail(w, 429, "rate_limited", "rate limit exceeded", nil)
			return
		}
		if f, failed := s.faults.Take(r.Method, r.URL.Path); failed {
			s.injected(w, f)
			return
		}
		if tooBig {
			s.fail(w, 400, "invalid_request", "request body too large", map[string]string{"reason": "body_too_large"})
			return
		}
		next(w, r, body)
	}
}

// maxBody is the largest body the fake reads. Engrami documents no limit
// (nor its answer to a larger body); the fake answers 400 invalid_request
// with reason "body_too_large" on the API, 413 on the hook URLs.
const maxBody = 1 << 20

// readBody reads at most maxBody bytes of r's body and reports whether
// there was more.
func readBody(r *http.Request) (body []byte, tooBig bool) {
	body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if len(body) > maxBody {
		return body[:maxBody], true
	}
	return body, false
}

// admit records the request, charges an authenticated one to the
// per-minute budget (or to RateLimitNext) and sets the X-RateLimit-*
// headers the overview documents on every answer; it reports whether the
// request is rate-limited. The docs do not say whether a request with a
// wrong key counts against a key's budget; the fake does not charge it.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, body []byte, authed bool) (limited bool) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	if now.Sub(s.window) >= time.Minute {
		s.window, s.remaining = now.Truncate(time.Minute), s.limit
	}
	reset, next := s.window.Add(time.Minute), false
	switch {
	case !authed:
	case s.limited > 0:
		s.limited--
		limited, next = true, true
	case s.remaining > 0:
		s.remaining--
	default:
		limited = true // the per-minute budget is spent
	}
	remaining := s.remaining
	if limited {
		remaining = 0
	}
	if next && !s.reset.IsZero() {
		reset = s.reset // RateLimitNext's, for its requests only
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return limited
}

// kind is the JSON type a body field must have.
type kind int

const (
	str     kind = iota // a string
	obj                 // an object
	strMap              // an object of strings
	strList             // an array of strings
)

// field is one body field the fake checks: its name, type, whether it is
// required, and the fields of an object inside it.
type field struct {
	name     string
	kind     kind
	required bool
	sub      []field
}

// Bodies as Engrami's custom-integrations page shows them. The page marks
// no field required or optional; the fake requires the fields it always
// required (what the engrami client requires), and checks the type of
// every field the page shows: a string, an object, an array of strings, or
// an object of strings (JSONPaths, templates, headers).
var (
	endpointFields = []field{{name: "url", kind: str}, {name: "method", kind: str},
		{name: "headers", kind: strMap}, {name: "body_template", kind: obj}}
	hookFields = []field{{"name", str, true, nil}, {"agent_id", str, true, nil},
		{"transform", obj, true, []field{{name: "message", kind: str}, {name: "metadata", kind: strMap}}}}
	toolFields = []field{{"name", str, true, nil}, {"description", str, true, nil},
		{"parameters", obj, true, nil}, {"endpoint", obj, true, endpointFields}}
	toolTestFields = []field{{name: "parameters", kind: obj}}
	providerFields = []field{{"name", str, true, nil}, {"display_name", str, true, nil},
		{"authorization_url", str, true, nil}, {"token_url", str, true, nil}, {"client_id", str, true, nil},
		{"client_secret", str, true, nil}, {"scopes", strList, false, nil}, {"redirect_uri", str, true, nil}}
	actionFields = []field{{"name", str, true, nil}, {"description", str, true, nil},
		{"endpoint", obj, true, endpointFields}, {"input_schema", obj, true, nil}, {"output_mapping", strMap, false, nil}}
	secretFields = []field{{"name", str, true, nil}, {"value", str, true, nil}}
)

// decode reads a JSON object body and checks fields; on failure it
// answers 400 with the overview's details naming the field.
func (s *Server) decode(w http.ResponseWriter, body []byte, fields []field) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		s.fail(w, 400, "invalid_request", "body is not a JSON object", nil)
		return nil, false
	}
	if name, reason := check(m, fields, ""); name != "" {
		msg := "missing required field"
		if reason == "invalid_type" {
			msg = "field has the wrong type"
		}
		s.fail(w, 400, "invalid_request", msg, map[string]string{"field": name, "reason": reason})
		return nil, false
	}
	return m, true
}

// check returns the first field of m (prefix.name) that is missing or of
// the wrong type, and the reason: the overview's
// "missing_required_field", or "invalid_type" (the docs name no reason
// for a wrong type; this one is the fake's).
func check(m map[string]json.RawMessage, fields []field, prefix string) (name, reason string) {
	for _, f := range fields {
		v, ok := m[f.name]
		if !ok || string(v) == "null" || string(v) == `""` {
			if f.required {
				return prefix + f.name, "missing_required_field"
			}
			if !ok || string(v) == "null" {
				continue // an optional field may be absent or null
			}
		}
		var err error
		var sub map[string]json.RawMessage
		switch f.kind {
		case str:
			err = json.Unmarshal(v, new(string))
		case obj:
			err = json.Unmarshal(v, &sub)
			if err == nil && sub == nil {
				err = errNotObject
			}
		case strMap:
			// A null decodes into a string as nothing: *string sees it.
			var m map[string]*string
			if err = json.Unmarshal(v, &m); err == nil && slices.Contains(slices.Collect(maps.Values(m)), nil) {
				err = errNotString
			}
		case strList:
			var l []*string
			if err = json.Unmarshal(v, &l); err == nil && slices.Contains(l, nil) {
				err = errNotString
			}
		}
		if err != nil {
			return prefix + f.name, "invalid_type"
		}
		if name, reason := check(sub, f.sub, prefix+f.name+"."); name != "" {
			return name, reason
		}
	}
	return "", ""
}

var (
	errNotObject = errors.New("not an object")
	errNotString = errors.New("not a string")
)

// create serves a definition whose answer the page does not show: 201
// with the stored definition, without the fields in withheld.
func (s *Server) create(withheld []string, fields []field) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		m, ok := s.decode(w, body, fields)
		if !ok {
			return
		}
		for _, f := range withheld {
			delete(m, f)
		}
		s.ok(w, 201, m)
	}
}

func (s *Server) createHook(w http.ResponseWriter, r *http.Request, body []byte) {
	if _, ok := s.decode(w, body, hookFields); !ok {
		return
	}
	var id, secret string
	s.locked(func() {
		s.seq++
		id = fmt.Sprintf("wh_in_%06d", s.seq)
		secret = fmt.Sprintf("whsec_engramitest%06d", s.seq)
		s.hooks[id] = secret
	})
	s.ok(w, 201, struct {
		ID     string `json:"id"`
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}{id, s.URL + "/in/" + id, secret})
}

func (s *Server) createTool(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(w, body, toolFields)
	if !ok {
		return
	}
	var name string
	_ = json.Unmarshal(m["name"], &name)
	s.locked(func() { s.tools[name] = body })
	s.ok(w, 201, m)
}

// testTool answers the page's test result; it is bare even with Wrap, as
// the page shows it (its own "success" is the tool call's outcome).
func (s *Server) testTool(w http.ResponseWriter, r *http.Request, body []byte) {
	name := r.PathValue("name")
	var ok bool
	var result json.RawMessage
	s.locked(func() { _, ok = s.tools[name]; result = s.results[name] })
	if !ok {
		// The docs show no answer for an unknown tool; the fake answers
		// the overview's 404 not_found.
		s.fail(w, 404, "not_found", "tool not found", map[string]string{"name": name})
		return
	}
	m, ok := s.decode(w, body, toolTestFields)
	if !ok {
		return
	}
	if result == nil {
		params := m["parameters"]
		if params == nil {
			params = json.RawMessage("null")
		}
		result, _ = json.Marshal(map[string]json.RawMessage{"echo": params})
	}
	// response_time_ms is the page's example value; the fake calls no
	// endpoint.
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Success        bool            `json:"success"`
		ResponseTimeMS int             `json:"response_time_ms"`
		Response       json.RawMessage `json:"response"`
	}{true, 234, result})
}

func (s *Server) createSecret(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(w, body, secretFields)
	if !ok {
		return
	}
	var name, value string
	_ = json.Unmarshal(m["name"], &name)
	_ = json.Unmarshal(m["value"], &value)
	s.locked(func() { s.secrets[name] = value })
	// The page shows no answer; the fake answers the name, never the value.
	s.ok(w, 201, map[string]string{"name": name})
}

// notHook answers what reaches the hook host but no hook: 405 for another
// method than POST (the page shows only POST), 404 for a path that names
// no hook. The hook host is not the API: no bearer token, no rate-limit
// headers, no record in Requests. The docs show no answer for either; the
// fake answers plain text, as net/http would.
func (s *Server) notHook(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.faults.Take(r.Method, r.URL.Path); ok {
		s.injected(w, f)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	http.Error(w, "not found", http.StatusNotFound)
}

// receive verifies X-Webhook-Signature with the hook's secret (used as
// raw bytes, prefix included, as engrami.Sender signs by default).
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.faults.Take(r.Method, r.URL.Path); ok {
		s.injected(w, f)
		return
	}
	id := r.PathValue("id")
	var secret string
	var ok bool
	s.locked(func() { secret, ok = s.hooks[id] })
	if !ok {
		http.Error(w, "not found", 404)
		return
	}
	v, err := webhook.NewHMAC("X-Webhook-Signature", "sha256=", secret)
	if err != nil {
		http.Error(w, "bad secret", 500)
		return
	}
	body, tooBig := readBody(r)
	if tooBig {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if _, err := v.Verify(r.Header, body); err != nil {
		http.Error(w, http.StatusText(webhook.StatusCode(err)), webhook.StatusCode(err))
		return
	}
	s.locked(func() { s.received[id] = append(s.received[id], body) })
	// The page shows no answer from the hook URL; the fake answers 202.
	w.WriteHeader(202)
}
