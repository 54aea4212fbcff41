package engrami

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/callcrm/callcrm-go/internal/core"
)

func invalid(op, msg string) error {
	return fmt.Errorf("engrami: %s: %w: %s", op, ErrInvalidRequest, msg)
}

// Transform maps an incoming payload to an agent message with JSONPath
// strings ("$.data.description").
type Transform struct {
	Message  string            `json:"message"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// IncomingWebhookParams is the body of CreateIncomingWebhook.
type IncomingWebhookParams struct {
	Name      string    `json:"name"`
	AgentID   string    `json:"agent_id"`
	Transform Transform `json:"transform"`
}

// IncomingWebhook is an endpoint external services POST to.
type IncomingWebhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Secret signs what you send to URL (see NewSender).
	Secret string `json:"secret"`
}

// String never prints the secret.
func (w IncomingWebhook) String() string {
	return "IncomingWebhook{" + w.ID + ", " + w.URL + ", [redacted]}"
}

func checkPaths(op string, paths map[string]string) error {
	for k, p := range paths {
		if _, err := parsePath(p); err != nil {
			return invalid(op, fmt.Sprintf("%s: %v", k, err))
		}
	}
	return nil
}

// CreateIncomingWebhook creates an incoming webhook for an agent.
func (c *Client) CreateIncomingWebhook(ctx context.Context, p *IncomingWebhookParams, opts ...CallOption) (*IncomingWebhook, error) {
	const op = "Webhooks.CreateIncoming"
	switch {
	case p == nil || p.Name == "" || p.AgentID == "":
		return nil, invalid(op, "name and agent_id are required")
	case p.Transform.Message == "":
		return nil, invalid(op, "transform.message (a JSONPath) is required")
	}
	if err := checkPaths(op, map[string]string{"transform.message": p.Transform.Message}); err != nil {
		return nil, err
	}
	if err := checkPaths(op, p.Transform.Metadata); err != nil {
		return nil, err
	}
	var out IncomingWebhook
	if err := c.call(ctx, op, http.MethodPost, "/webhooks/incoming", nil, p, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// endpointMethods are the methods an Endpoint may use; NewToolHandler
// serves every one of them.
var endpointMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func endpointMethod(m string) bool {
	for _, x := range endpointMethods {
		if strings.EqualFold(m, x) {
			return true
		}
	}
	return false
}

// Endpoint is the HTTP call Engrami makes for a tool or action. Header and
// body values may hold {{param}} and {{secrets.NAME}} templates.
type Endpoint struct {
	URL          string            `json:"url"`
	Method       string            `json:"method"`
	Headers      map[string]string `json:"headers,omitempty"`
	BodyTemplate map[string]any    `json:"body_template,omitempty"`
}

func (e *Endpoint) validate() error {
	if e.URL == "" || e.Method == "" {
		return fmt.Errorf("endpoint.url and endpoint.method are required")
	}
	if !strings.Contains(e.URL, "{{") {
		if u, err := url.Parse(e.URL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("endpoint.url %q is not an absolute URL", e.URL)
		}
	}
	if !endpointMethod(e.Method) {
		return fmt.Errorf("endpoint.method %q is not one of %s", e.Method, strings.Join(endpointMethods, ", "))
	}
	return nil
}

// Tool is a custom tool an agent can call.
type Tool struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Parameters  *JSONSchema `json:"parameters"`
	Endpoint    Endpoint    `json:"endpoint"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{0,127}$`)

// Validate checks what Engrami requires before any request.
func (t *Tool) Validate() error {
	if t == nil {
		return fmt.Errorf("tool is nil")
	}
	if err := validateDefinition(t.Name, t.Description, "parameters", t.Parameters); err != nil {
		return err
	}
	return t.Endpoint.validate()
}

// validateDefinition checks what a tool and an action both declare: a
// name of letters, digits, _ or -, a description, and the schema of
// their input (field names it in an error).
func validateDefinition(name, description, field string, schema *JSONSchema) error {
	switch {
	case !nameRE.MatchString(name):
		return fmt.Errorf("name %q must be letters, digits, _ or -", name)
	case description == "":
		return fmt.Errorf("description is required")
	}
	return schema.validate(field)
}

// CreateTool defines a custom tool. Engrami returns the tool (or an id);
// the answer is kept raw.
func (c *Client) CreateTool(ctx context.Context, t *Tool, opts ...CallOption) (json.RawMessage, error) {
	return c.create(ctx, "Tools.Create", "/tools", t, opts)
}

// create validates v (a *Tool or *Action; nil is an invalid request) and
// POSTs it to route, returning Engrami's answer raw.
func (c *Client) create(ctx context.Context, op, route string, v interface{ Validate() error }, opts []CallOption) (json.RawMessage, error) {
	if err := v.Validate(); err != nil {
		return nil, invalid(op, err.Error())
	}
	var out json.RawMessage
	err := c.call(ctx, op, http.MethodPost, route, nil, v, &out, opts)
	return out, err
}

// ToolTestResult is the answer of TestTool.
type ToolTestResult struct {
	Success        bool            `json:"success"`
	ResponseTimeMS int             `json:"response_time_ms"`
	Response       json.RawMessage `json:"response"`
}

// TestTool runs a tool with parameters (POST /tools/{name}/test). The
// answer's own "success" is a result field here, not an envelope.
func (c *Client) TestTool(ctx context.Context, name string, params map[string]any, opts ...CallOption) (*ToolTestResult, error) {
	if !nameRE.MatchString(name) {
		return nil, invalid("Tools.Test", fmt.Sprintf("tool name %q", name))
	}
	req := map[string]any{"parameters": params}
	var raw json.RawMessage
	// Decode without unwrap: {success, response_time_ms, response} looks
	// like an envelope but is the result.
	if err := c.callRaw(ctx, "Tools.Test", http.MethodPost, "/tools/{name}/test", []string{name}, req, &raw, opts); err != nil {
		return nil, err
	}
	const op, route = "Tools.Test", "/tools/{name}/test"
	if data, err := unwrap(raw); err == nil && core.NoResult(data) {
		return nil, c.emptyResult(op, http.MethodPost, route)
	}
	var env struct {
		Data  *ToolTestResult `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil {
		// The overview's error envelope names a code; an "error" without
		// one may be the tool call's own failure, which is a result.
		var apiErr struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(env.Error, &apiErr) == nil && apiErr.Code != "" {
			e := &core.APIError{Provider: "engrami", Operation: op, Method: http.MethodPost, Route: route, StatusCode: http.StatusOK, Body: raw}
			core.DecodeGenericError(e)
			return nil, publicError(e)
		}
		if env.Data != nil {
			return env.Data, nil
		}
	}
	var out ToolTestResult
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, &DecodeError{Provider: "engrami", Operation: op, Method: http.MethodPost, Route: route, StatusCode: http.StatusOK, Err: err}
	}
	return &out, nil
}

// OAuthProvider registers a CRM's OAuth 2.0 endpoints so Engrami users can
// connect their accounts.
type OAuthProvider struct {
	Name             string   `json:"name"`
	DisplayName      string   `json:"display_name"`
	AuthorizationURL string   `json:"authorization_url"`
	TokenURL         string   `json:"token_url"`
	ClientID         string   `json:"client_id"`
	ClientSecret     string   `json:"client_secret"`
	Scopes           []string `json:"scopes,omitempty"`
	RedirectURI      string   `json:"redirect_uri"`
}

// String never prints the client secret.
func (p OAuthProvider) String() string { return "OAuthProvider{" + p.Name + ", [redacted]}" }

// CreateOAuthProvider registers an OAuth provider.
func (c *Client) CreateOAuthProvider(ctx context.Context, p *OAuthProvider, opts ...CallOption) (json.RawMessage, error) {
	const op = "OAuth.CreateProvider"
	if p == nil || !nameRE.MatchString(p.Name) || p.DisplayName == "" || p.ClientID == "" || p.ClientSecret == "" {
		return nil, invalid(op, "name, display_name, client_id and client_secret are required")
	}
	for k, v := range map[string]string{"authorization_url": p.AuthorizationURL, "token_url": p.TokenURL, "redirect_uri": p.RedirectURI} {
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, invalid(op, k+" must be an absolute URL")
		}
	}
	var out json.RawMessage
	err := c.call(ctx, op, http.MethodPost, "/integrations/oauth/providers", nil, p, &out, append(opts, withSecrets(p.ClientSecret)))
	return out, err
}

// ConnectURL is where users connect their account for a provider.
func ConnectURL(providerName string) string {
	return "https://app.engrami.com/integrations/connect/" + url.PathEscape(providerName)
}

// Action is an outgoing action agents can trigger.
type Action struct {
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	Endpoint      Endpoint          `json:"endpoint"`
	InputSchema   *JSONSchema       `json:"input_schema"`
	OutputMapping map[string]string `json:"output_mapping,omitempty"`
}

// Validate checks the action before any request.
func (a *Action) Validate() error {
	if a == nil {
		return fmt.Errorf("action is nil")
	}
	if err := validateDefinition(a.Name, a.Description, "input_schema", a.InputSchema); err != nil {
		return err
	}
	for k, p := range a.OutputMapping {
		if _, err := parsePath(p); err != nil {
			return fmt.Errorf("output_mapping.%s: %v", k, err)
		}
	}
	return a.Endpoint.validate()
}

// CreateAction defines an outgoing action.
func (c *Client) CreateAction(ctx context.Context, a *Action, opts ...CallOption) (json.RawMessage, error) {
	return c.create(ctx, "Actions.Create", "/integrations/actions", a, opts)
}

var secretNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// SecretParams is the body of CreateSecret. It never prints Value.
type SecretParams struct {
	// Name is letters, digits and _, not starting with a digit (at most
	// 128 characters); templates read it as {{secrets.NAME}}.
	Name string `json:"name"`
	// Value is the secret itself.
	Value string `json:"value"`
}

// String never prints the value.
func (p SecretParams) String() string { return "SecretParams{" + p.Name + ", [redacted]}" }

// GoString is String, so %#v redacts too.
func (p SecretParams) GoString() string { return p.String() }

// Format prints String for every verb.
func (p SecretParams) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// CreateSecret stores a secret. Its value never appears in logs or errors.
func (c *Client) CreateSecret(ctx context.Context, p *SecretParams, opts ...CallOption) error {
	switch {
	case p == nil:
		return invalid("Secrets.Create", "params are nil")
	case !secretNameRE.MatchString(p.Name):
		return invalid("Secrets.Create", fmt.Sprintf("secret name %q must be letters, digits and _", p.Name))
	case p.Value == "":
		return invalid("Secrets.Create", "value is empty")
	}
	return c.call(ctx, "Secrets.Create", http.MethodPost, "/secrets", nil, map[string]string{"name": p.Name, "value": p.Value}, nil, append(opts, withSecrets(p.Value)))
}
