package engrami

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// ToolError lets a tool function choose the status and code of its error
// answer (default 500, "tool_error").
type ToolError struct {
	// Status is the HTTP status answered: a 4xx or 5xx. 0 means 500; any
	// other value (a 1xx, 2xx or 3xx would tell Engrami the call worked,
	// an out-of-range one cannot be sent) is answered 500 and logged as
	// the tool's error.
	Status  int
	Code    string
	Message string
}

// Error returns the message sent to Engrami.
func (e *ToolError) Error() string {
	if e == nil {
		return "engrami: nil *ToolError"
	}
	return e.Message
}

// DefaultToolTimeout bounds a tool function unless WithToolTimeout says
// otherwise.
const DefaultToolTimeout = 30 * time.Second

// NewToolHandler serves a tool or action endpoint Engrami calls, with every
// method an Endpoint may declare (GET, POST, PUT, PATCH, DELETE; others
// 405): it checks "Authorization: Bearer <secret>" in constant time (401;
// with WithToolSecretSource, against the tenant's current secrets, 404
// for an unknown tenant, 503 with Retry-After while the source fails),
// decodes the JSON body into P (a GET or DELETE without a body reads the
// query parameters as strings) (400 naming the bad field), enforces the fields P marks
// `required:"true"` (400), calls fn under a deadline and answers its result
// as JSON, or a JSON error with 5xx (or the ToolError's 4xx or 5xx
// status); a panic in fn is recovered and answered 500. At the deadline
// the call is answered 504 even if fn ignores its context (fn runs on its
// own goroutine, like http.TimeoutHandler; what it returns later is
// dropped).
//
// It reads and reports like every receiver in this module; its options
// are ToolOptions: WithToolMaxBodyBytes (default 1 MiB), WithToolTimeout
// (default DefaultToolTimeout), WithToolLogger and WithToolErrorHook (one
// line per refused or failed call with the keys provider, delivery_id,
// event, status, error; never the secret).
func NewToolHandler[P, R any](secret string, fn func(ctx context.Context, params P) (R, error), opts ...ToolOption) (http.Handler, error) {
	if fn == nil {
		return nil, optErr("NewToolHandler", "fn is nil")
	}
	ts, cfg, err := toolConfig(opts)
	if err != nil {
		return nil, err
	}
	var fixed webhook.Verifier
	if !cfg.HasSecretSource() {
		if secret == "" {
			return nil, opterr.New("engrami", "NewToolHandler", webhook.ErrInvalidSecret, "secret is empty (give it or WithToolSecretSource)")
		}
		if fixed, err = newBearer([]string{secret}); err != nil {
			return nil, opterr.New("engrami", "NewToolHandler", webhook.ErrInvalidSecret, "secret is invalid")
		}
	}
	required, err := requiredFields(reflect.TypeFor[P]())
	if err != nil {
		return nil, err
	}
	return &toolHandler[P, R]{fn: fn, cfg: cfg, fixed: fixed, maxBody: ts.maxBody, timeout: ts.Timeout, required: required}, nil
}

// toolHandler is NewToolHandler's http.Handler for one tool.
type toolHandler[P, R any] struct {
	fn       func(ctx context.Context, params P) (R, error)
	cfg      *webhook.Config
	fixed    webhook.Verifier // nil with a secret source
	maxBody  int64
	timeout  time.Duration
	required []string
}

func (h *toolHandler[P, R]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		h.cfg.Report(r, "engrami", "", "tool", status, errors.New(code+": "+msg))
		writeJSONError(w, status, code, msg)
	}
	v, tenant, err := h.cfg.Verifier(r.Context(), r, h.fixed, newBearer)
	if err != nil {
		// unknown tenant 404, failing source 503 (never 401)
		status := webhook.StatusCode(err)
		h.cfg.Report(r, "engrami", "", "tool", status, err)
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
			writeJSONError(w, status, "unavailable", "secrets unavailable, retry later")
			return
		}
		writeJSONError(w, status, "not_found", "unknown tenant")
		return
	}
	if _, err := v.Verify(r.Header, nil); err != nil {
		fail(http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
		return
	}
	if !endpointMethod(r.Method) {
		w.Header().Set("Allow", strings.Join(endpointMethods, ", "))
		fail(http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed")
		return
	}
	p, status, code, msg := h.params(w, r)
	if status != 0 {
		fail(status, code, msg)
		return
	}
	ctx := r.Context()
	if tenant != "" {
		ctx = webhook.ContextWithTenant(ctx, tenant) // webhook.TenantFrom in the tool
	}
	res, late, err := callTool(ctx, h.timeout, h.fn, p)
	if late {
		fail(http.StatusGatewayTimeout, "timeout", fmt.Sprintf("the tool did not answer within %v", h.timeout))
		return
	}
	if err != nil {
		h.toolFailed(w, r, err)
		return
	}
	out, err := json.Marshal(res)
	if err != nil {
		fail(http.StatusInternalServerError, "encoding_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// params reads and decodes the call's parameters: the JSON body (or, for
// a GET or DELETE without one, the query parameters as strings), with
// every required field present. A non-zero status is the 4xx to answer,
// with its code and message.
func (h *toolHandler[P, R]) params(w http.ResponseWriter, r *http.Request) (p P, status int, code, msg string) {
	body, err := webhook.ReadBody(w, r, h.maxBody, webhook.DefaultReadTimeout)
	if err != nil {
		return p, webhook.StatusCode(err), "invalid_request", err.Error()
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodDelete) && len(bytes.TrimSpace(body)) == 0 {
		body = queryObject(r.URL.Query())
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(body, &present); err != nil {
		return p, http.StatusBadRequest, "invalid_json", "body is not a JSON object"
	}
	for _, f := range h.required {
		if v, ok := present[f]; !ok || string(v) == "null" {
			return p, http.StatusBadRequest, "missing_required_field", "field " + f + " is required"
		}
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te != nil {
			return p, http.StatusBadRequest, "invalid_field", fmt.Sprintf("field %s must be %s, got %s", te.Field, te.Type, te.Value)
		}
		return p, http.StatusBadRequest, "invalid_json", err.Error()
	}
	return p, 0, "", ""
}

// toolFailed answers the tool's error: a ToolError with its 4xx or 5xx
// status, code and message; any other error a generic 500 (its details
// go to your logs only).
func (h *toolHandler[P, R]) toolFailed(w http.ResponseWriter, r *http.Request, err error) {
	var te *ToolError
	if !errors.As(err, &te) || te == nil {
		h.cfg.Report(r, "engrami", "", "tool", http.StatusInternalServerError, err)
		writeJSONError(w, http.StatusInternalServerError, "tool_error", "the tool failed")
		return
	}
	status, code := te.Status, te.Code
	if code == "" {
		code = "tool_error"
	}
	switch {
	case status == 0:
		status = http.StatusInternalServerError
	case status < 400 || status > 599:
		// A 1xx would be sent before a 200, a 2xx or 3xx read as
		// success, and net/http panics on a status over 999.
		h.cfg.Report(r, "engrami", "", "tool", http.StatusInternalServerError,
			fmt.Errorf("engrami: ToolError.Status %d is not a 4xx or 5xx status; answered 500 (%s: %s)", te.Status, code, te.Message))
		writeJSONError(w, http.StatusInternalServerError, code, te.Message)
		return
	}
	h.cfg.Report(r, "engrami", "", "tool", status, errors.New(code+": "+te.Message))
	writeJSONError(w, status, code, te.Message)
}

type toolResult[R any] struct {
	res R
	err error
}

// callTool runs fn on its own goroutine under the deadline, turning a
// panic into an error. late reports that the deadline passed first (or
// that fn failed once it had): the caller answers 504 at the deadline
// even if fn ignores its context, and whatever fn returns afterwards is
// dropped.
func callTool[P, R any](ctx context.Context, timeout time.Duration, fn func(context.Context, P) (R, error), p P) (res R, late bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan toolResult[R], 1) // buffered: a late fn never blocks
	go func() {
		out := toolResult[R]{err: errors.New("engrami: tool function called runtime.Goexit")}
		defer func() {
			if v := recover(); v != nil {
				out = toolResult[R]{err: fmt.Errorf("engrami: tool function panicked: %v", v)}
			}
			done <- out
		}()
		out.res, out.err = fn(ctx, p)
	}()
	select {
	case out := <-done:
		return out.res, out.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded), out.err
	case <-ctx.Done():
		return res, true, ctx.Err()
	}
}

// queryObject turns query parameters into a JSON object: one value is a
// string, several are an array of strings.
func queryObject(q url.Values) []byte {
	m := make(map[string]any, len(q))
	for k, vs := range q {
		if len(vs) == 1 {
			m[k] = vs[0]
		} else {
			m[k] = vs
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]string{"code": code, "message": msg}})
}

// requiredFields lists the JSON names of struct fields tagged
// `required:"true"`.
func requiredFields(t reflect.Type) ([]string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("required") != "true" {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			if n, _, _ := strings.Cut(tag, ","); n != "" && n != "-" {
				name = n
			}
		}
		out = append(out, name)
	}
	return out, nil
}
