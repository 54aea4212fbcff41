// Package engramitest is a fake Engrami API on httptest for the endpoints
// the engrami package types: incoming webhooks, tools and tool tests, OAuth
// providers, actions and secrets. It checks the bearer token, validates
// required fields, answers Engrami's {"success", "data" | "error"}
// envelope, sends X-RateLimit-* headers, rate-limits on demand, and records
// every request. It also receives signed events on incoming-webhook URLs
// and verifies them.
package engramitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// Request is one recorded API request.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// Server is a fake Engrami.
type Server struct {
	*httptest.Server
	// Token is the accepted API key.
	Token string
	// Wrap, when true (the default), wraps answers in {"success", "data"}.
	Wrap bool

	mu        sync.Mutex
	requests  []Request
	tools     map[string]json.RawMessage
	secrets   map[string]string
	hooks     map[string]string // id -> secret
	received  map[string][][]byte
	limit     int
	remaining int
	reset     time.Time
	limited   int
	seq       int
}

// New starts a fake Engrami; its API base URL is URL() + "/api/v1".
func New() *Server {
	s := &Server{Token: "engrami-test-token", Wrap: true, tools: map[string]json.RawMessage{}, secrets: map[string]string{},
		hooks: map[string]string{}, received: map[string][][]byte{}, limit: 600, remaining: 600}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/webhooks/incoming", s.auth(s.createHook))
	mux.HandleFunc("POST /api/v1/tools", s.auth(s.createTool))
	mux.HandleFunc("POST /api/v1/tools/{name}/test", s.auth(s.testTool))
	mux.HandleFunc("POST /api/v1/integrations/oauth/providers", s.auth(s.required("oauth provider", "name", "display_name", "authorization_url", "token_url", "client_id", "client_secret", "redirect_uri")))
	mux.HandleFunc("POST /api/v1/integrations/actions", s.auth(s.required("action", "name", "description", "endpoint", "input_schema")))
	mux.HandleFunc("POST /api/v1/secrets", s.auth(s.createSecret))
	mux.HandleFunc("POST /in/{id}", s.receive)
	mux.HandleFunc("/", s.auth(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		s.fail(w, 404, "not_found", "no such endpoint", nil)
	}))
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the API root to pass to engrami.WithBaseURL.
func (s *Server) BaseURL() string { return s.URL + "/api/v1" }

// RateLimitNext makes the next n API requests answer 429 with
// X-RateLimit-Reset at reset.
func (s *Server) RateLimitNext(n int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.reset = n, reset
}

// Requests returns the API requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Secret returns a stored secret's value.
func (s *Server) Secret(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.secrets[name]
	return v, ok
}

// Received returns the verified events an incoming webhook got.
func (s *Server) Received(hookID string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.received[hookID]...)
}

func (s *Server) ok(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s.Wrap {
		v = map[string]any{"success": true, "data": v}
	}
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string, details map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"code": code, "message": msg}
	if details != nil {
		e["details"] = details
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": e})
}

func (s *Server) auth(next func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		limited := s.limited > 0
		if limited {
			s.limited--
		} else if s.remaining > 0 {
			s.remaining--
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
		reset := s.reset
		if reset.IsZero() {
			reset = time.Now().Add(time.Minute)
		}
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			s.fail(w, 401, "unauthorized", "invalid API key", nil)
			return
		}
		if limited {
			w.Header().Set("X-RateLimit-Remaining", "0")
			s.fail(w, 429, "rate_limited", "rate limit exceeded", nil)
			return
		}
		next(w, r, body)
	}
}

func (s *Server) decode(w http.ResponseWriter, body []byte, fields ...string) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		s.fail(w, 400, "invalid_request", "body is not a JSON object", nil)
		return nil, false
	}
	for _, f := range fields {
		if v, ok := m[f]; !ok || string(v) == `""` || string(v) == "null" {
			s.fail(w, 400, "invalid_request", "missing required field", map[string]string{"field": f, "reason": "missing_required_field"})
			return nil, false
		}
	}
	return m, true
}

func (s *Server) required(kind string, fields ...string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		m, ok := s.decode(w, body, fields...)
		if !ok {
			return
		}
		var name string
		_ = json.Unmarshal(m["name"], &name)
		s.ok(w, 201, map[string]any{"id": kind + "_" + name, "name": name, "created_at": time.Now().UTC().Format(time.RFC3339)})
	}
}

func (s *Server) createHook(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(w, body, "name", "agent_id", "transform")
	if !ok {
		return
	}
	_ = m
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("wh_in_%d", s.seq)
	secret := fmt.Sprintf("whsec_test%d", s.seq)
	s.hooks[id] = secret
	s.mu.Unlock()
	s.ok(w, 201, map[string]string{"id": id, "url": s.URL + "/in/" + id, "secret": secret})
}

func (s *Server) createTool(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(w, body, "name", "description", "parameters", "endpoint")
	if !ok {
		return
	}
	var name string
	_ = json.Unmarshal(m["name"], &name)
	s.mu.Lock()
	s.tools[name] = body
	s.mu.Unlock()
	s.ok(w, 201, map[string]any{"id": "tool_" + name, "name": name})
}

func (s *Server) testTool(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	_, ok := s.tools[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		s.fail(w, 404, "not_found", "tool not found", map[string]string{"name": r.PathValue("name")})
		return
	}
	var in struct {
		Parameters map[string]any `json:"parameters"`
	}
	_ = json.Unmarshal(body, &in)
	// The documented test answer is not wrapped.
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "response_time_ms": 234, "response": map[string]any{"echo": in.Parameters}})
}

func (s *Server) createSecret(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(w, body, "name", "value")
	if !ok {
		return
	}
	var name, value string
	_ = json.Unmarshal(m["name"], &name)
	_ = json.Unmarshal(m["value"], &value)
	s.mu.Lock()
	s.secrets[name] = value
	s.mu.Unlock()
	s.ok(w, 201, map[string]string{"name": name})
}

// receive verifies X-Webhook-Signature with the hook's secret (used as
// raw bytes, prefix included, as engrami.Sender signs by default).
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	secret, ok := s.hooks[id]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not found", 404)
		return
	}
	v, err := webhook.NewHMAC("X-Webhook-Signature", "sha256=", secret)
	if err != nil {
		http.Error(w, "bad secret", 500)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", 400)
		return
	}
	if _, err := v.Verify(r.Header, body); err != nil {
		http.Error(w, http.StatusText(webhook.StatusCode(err)), webhook.StatusCode(err))
		return
	}
	s.mu.Lock()
	s.received[id] = append(s.received[id], body)
	s.mu.Unlock()
	w.WriteHeader(202)
}
