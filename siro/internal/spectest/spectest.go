// Package spectest validates traffic between the siro client and a Siro
// host against Siro's published OpenAPI documents (testdata/, see its
// README). It is imported by tests only; kin-openapi is a test-only
// dependency of the module.
//
// The documents are parsed, repaired and routed once per test binary. A
// Validator wraps a host's handler: each request is checked (operation
// exists, path and query parameters, JSON body, security header of that
// host) before it is served, and each answer (status, content type, body)
// after. Violations are collected, not panicked, so a test can report
// them all.
package spectest

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

//go:embed testdata/*.json
var documents embed.FS

// Host is one of Siro's two hosts.
type Host string

// The two hosts, with their documents and canonical base URLs.
const (
	Org  Host = "org"
	User Host = "user"
)

var hostDoc = map[Host]struct{ file, base string }{
	Org:  {"testdata/siro-external-api-openapi.json", "https://functions.siro.ai/api-externalApi"},
	User: {"testdata/siro-platform-api-openapi.json", "https://api.siro.ai"},
}

// Spec is the loaded, repaired and routed documents of both hosts.
type Spec struct {
	webhook *openapi3.Schema // RecordingEventWebhookPayload
	docs    map[Host]*openapi3.T
	routers map[Host]routers.Router
	// Repairs names every in-memory repair applied to the documents.
	Repairs []string
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load returns the documents, parsed and routed once per process.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Spec, error) {
	s := &Spec{docs: map[Host]*openapi3.T{}, routers: map[Host]routers.Router{}}
	for _, h := range []Host{Org, User} {
		b, err := documents.ReadFile(hostDoc[h].file)
		if err != nil {
			return nil, err
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			return nil, fmt.Errorf("spectest: %s: %w", hostDoc[h].file, err)
		}
		s.Repairs = append(s.Repairs, repairPathParams(h, doc)...)
		s.Repairs = append(s.Repairs, repairErrorAnswers(h, doc)...)
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("spectest: %s after repairs: %w", hostDoc[h].file, err)
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("spectest: %s: %w", hostDoc[h].file, err)
		}
		s.docs[h], s.routers[h] = doc, r
	}
	sort.Strings(s.Repairs)
	b, err := documents.ReadFile("testdata/siro-webhooks.json")
	if err != nil {
		return nil, err
	}
	wh, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("spectest: siro-webhooks.json: %w", err)
	}
	ref := wh.Components.Schemas["RecordingEventWebhookPayload"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("spectest: siro-webhooks.json has no RecordingEventWebhookPayload")
	}
	s.webhook = ref.Value
	return s, nil
}

// ValidateWebhook checks a webhook body against the webhooks document's
// RecordingEventWebhookPayload.
func (s *Spec) ValidateWebhook(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return s.webhook.VisitJSON(v, openapi3.MultiErrors())
}

// The repairs fix the documents' own defects in memory; each returns one
// line naming every change it made, and the test pins the list.

// repairPathParams: "undeclared path parameter". A path template uses
// {name} but neither the operation nor its path item declares it. The
// operation gets a required string path parameter of that name.
func repairPathParams(h Host, doc *openapi3.T) []string {
	var done []string
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			for _, name := range templateParams(path) {
				if declared(item.Parameters, name) || declared(op.Parameters, name) {
					continue
				}
				op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
					Name: name, In: openapi3.ParameterInPath, Required: true,
					Schema: openapi3.NewStringSchema().NewRef(),
				}})
				done = append(done, fmt.Sprintf("%s: declare path parameter %q of %s %s", h, name, method, path))
			}
		}
	}
	return done
}

// errorStatuses are the error answers a Siro host gives on any operation.
var errorStatuses = []string{"400", "401", "403", "404", "422", "429", "500", "502", "503"}

// repairErrorAnswers: "undeclared error answers". Most operations declare
// only their success (siro-api.md: "Most functions-host operations declare
// only 200. Their error bodies are not declared"), yet every operation can
// answer 401, 404, 422, 429, 500 and so on. An operation that does not
// declare an error status gets the answer the same document declares for
// that status elsewhere: its most common JSON declaration ({error} or the
// Zod {issues}); for 429 its text/plain declaration (POST
// /v1/core/recordings/{id}/chats); for 502 and 503, which no operation
// declares, the 500 answer.
func repairErrorAnswers(h Host, doc *openapi3.T) []string {
	common := map[string]*openapi3.ResponseRef{}
	counts := map[string]map[string]int{} // status -> JSON form -> uses
	byJSON := map[string]*openapi3.ResponseRef{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			for st, r := range op.Responses.Map() {
				ct := "application/json"
				if st == "429" {
					ct = "text/plain"
				}
				if r.Value == nil || r.Value.Content.Get(ct) == nil {
					continue
				}
				// Identical declarations are separate objects: count them
				// by their JSON form.
				b, _ := json.Marshal(r)
				if counts[st] == nil {
					counts[st] = map[string]int{}
				}
				counts[st][string(b)]++
				byJSON[string(b)] = r
			}
		}
	}
	for st, forms := range counts {
		best, bestForm := 0, ""
		for form, n := range forms {
			if n > best || (n == best && form < bestForm) {
				best, bestForm = n, form
			}
		}
		common[st] = byJSON[bestForm]
	}
	// Siro's own 429 declaration is on the user host; the org host answers
	// rate limits the same way.
	if common["429"] == nil {
		common["429"] = &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("Too Many Requests - Rate limit exceeded").
			WithContent(openapi3.NewContentWithSchema(openapi3.NewStringSchema(), []string{"text/plain"}))}
	}
	for _, st := range []string{"502", "503"} {
		if common[st] == nil {
			common[st] = common["500"]
		}
	}
	added := map[string]int{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			for _, st := range errorStatuses {
				if op.Responses.Value(st) == nil && common[st] != nil {
					op.Responses.Set(st, common[st])
					added[st]++
				}
			}
		}
	}
	var done []string
	for _, st := range errorStatuses {
		if added[st] > 0 {
			done = append(done, fmt.Sprintf("%s: declare the document's common %s answer on the %d operations that declare none", h, st, added[st]))
		}
	}
	return done
}

func templateParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

func declared(ps openapi3.Parameters, name string) bool {
	for _, p := range ps {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath && p.Value.Name == name {
			return true
		}
	}
	return false
}

// Operations returns "METHOD path" of every operation a host's document
// declares.
func (s *Spec) Operations(h Host) []string {
	var out []string
	doc := s.docs[h]
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// Validator checks traffic and remembers what it validated. Safe for
// concurrent use.
type Validator struct {
	spec *Spec

	mu         sync.Mutex
	violations []string
	expected   map[string]int // substring -> times seen
	requests   map[string]int // "host METHOD route" -> validated requests
	responses  map[string]int // "host METHOD route status" -> validated answers
}

// NewValidator returns a validator over the shared, once-loaded documents.
func NewValidator() (*Validator, error) {
	s, err := Load()
	if err != nil {
		return nil, err
	}
	return &Validator{spec: s, requests: map[string]int{}, responses: map[string]int{}, expected: map[string]int{}}, nil
}

// Spec returns the documents the validator uses.
func (v *Validator) Spec() *Spec { return v.spec }

// Violations returns every violation found so far.
func (v *Validator) Violations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.violations...)
}

// Requests returns the operations ("host METHOD route") whose requests
// were validated, sorted.
func (v *Validator) Requests() []string { return v.keys(v.requests) }

// Responses returns the operations and statuses ("host METHOD route
// status") whose answers were validated, sorted.
func (v *Validator) Responses() []string { return v.keys(v.responses) }

func (v *Validator) keys(m map[string]int) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Expect declares that violations containing substr are expected: a test
// sends a bad request on purpose. They are not reported; Unmet lists the
// expectations no violation matched.
func (v *Validator) Expect(substr string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.expected[substr] += 0
}

// Unmet returns the expectations that no violation matched.
func (v *Validator) Unmet() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for k, n := range v.expected {
		if n == 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (v *Validator) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.mu.Lock()
	defer v.mu.Unlock()
	for k := range v.expected {
		if strings.Contains(msg, k) {
			v.expected[k]++
			return
		}
	}
	v.violations = append(v.violations, msg)
}

// Mode selects what Wrap validates.
type Mode int

// Modes.
const (
	// RequestsAndResponses validates both (a fake that must answer as Siro).
	RequestsAndResponses Mode = iota
	// RequestsOnly validates requests (a test server with canned answers).
	RequestsOnly
)

// Wrap returns next behind validation for host h. basePath is the prefix
// the server mounts the host's paths under ("/api-externalApi" for the
// org host of sirotest, "" for the user host).
func (v *Validator) Wrap(h Host, mode Mode, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			v.fail("%s %s %s: reading request body: %v", h, r.Method, r.URL.Path, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		in, route := v.checkRequest(h, r, body)
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		out, _ := io.ReadAll(res.Body)
		if mode == RequestsAndResponses && in != nil {
			v.checkResponse(h, route, in, res.StatusCode, res.Header, out)
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(out)
	})
}

// checkRequest validates one request and returns the input for checking
// its answer (nil when the request matched no operation).
func (v *Validator) checkRequest(h Host, r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, *routers.Route) {
	base, _ := url.Parse(hostDoc[h].base)
	path := r.URL.EscapedPath()
	if h == Org {
		path = strings.TrimPrefix(path, base.Path)
	}
	canon := r.Clone(context.Background())
	canon.URL = &url.URL{Scheme: base.Scheme, Host: base.Host, Path: base.Path + unescape(path), RawPath: base.Path + path, RawQuery: r.URL.RawQuery}
	canon.Host = base.Host
	canon.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.spec.routers[h].FindRoute(canon)
	if err != nil {
		v.fail("%s %s %s: no such operation in Siro's document: %v", h, r.Method, path, err)
		return nil, nil
	}
	// The security header belongs to its host: never the other one's.
	switch {
	case h == Org && r.Header.Get("x-siro-auth-token") != "":
		v.fail("%s %s %s: user token header sent to the org host", h, r.Method, route.Path)
	case h == User && r.Header.Get("Authorization") != "":
		v.fail("%s %s %s: Authorization header sent to the user host", h, r.Method, route.Path)
	}
	opts := &openapi3filter.Options{MultiError: true, AuthenticationFunc: authenticate, RejectWhenRequestBodyNotSpecified: true}
	opts.WithCustomSchemaErrorFunc(shortSchemaError)
	in := &openapi3filter.RequestValidationInput{Request: canon, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		v.fail("%s %s %s: request: %v", h, r.Method, route.Path, err)
	}
	v.mu.Lock()
	v.requests[string(h)+" "+route.Method+" "+route.Path]++
	v.mu.Unlock()
	return in, route
}

func unescape(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return u
}

// authenticate checks the header the operation's security scheme names.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, sch := in.RequestValidationInput.Request, in.SecurityScheme
	switch {
	case sch.Type == "http" && strings.EqualFold(sch.Scheme, "bearer"):
		a := r.Header.Get("Authorization")
		if !strings.HasPrefix(a, "Bearer ") || len(a) == len("Bearer ") {
			return errors.New("missing Authorization: Bearer <token>")
		}
	case sch.Type == "apiKey" && sch.In == "header":
		if r.Header.Get(sch.Name) == "" {
			return fmt.Errorf("missing %s header", sch.Name)
		}
	default:
		return fmt.Errorf("unsupported security scheme %s", in.SecuritySchemeName)
	}
	return nil
}

func (v *Validator) checkResponse(h Host, route *routers.Route, in *openapi3filter.RequestValidationInput, status int, hdr http.Header, body []byte) {
	opts := &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}
	opts.WithCustomSchemaErrorFunc(shortSchemaError)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: hdr, Options: opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.fail("%s %s %s: answer %d %s: %v", h, route.Method, route.Path, status, truncate(body), err)
		return
	}
	v.mu.Lock()
	v.responses[fmt.Sprintf("%s %s %s %d", h, route.Method, route.Path, status)]++
	v.mu.Unlock()
}

// shortSchemaError names the JSON pointer and the reason, without the
// schema dump.
func shortSchemaError(e *openapi3.SchemaError) string {
	return fmt.Sprintf("at /%s: %s", strings.Join(e.JSONPointer(), "/"), e.Reason)
}

func truncate(b []byte) string {
	if len(b) > 160 {
		return string(b[:160]) + "..."
	}
	return string(b)
}
