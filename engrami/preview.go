package engrami

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// --- JSONPath ----------------------------------------------------------------

type step struct {
	key   string
	index int
	isIdx bool
}

// parsePath accepts the forms Engrami's docs use: "$", "$.a.b", array
// indexes "$.items[0].id" and bracketed keys "$['a b']".
func parsePath(p string) ([]step, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("JSONPath %q must start with $", p)
	}
	var steps []step
	rest := p[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, fmt.Errorf("JSONPath %q has an empty key", p)
			}
			steps = append(steps, step{key: rest[:end]})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSONPath %q has an unclosed [", p)
			}
			inner := rest[1:end]
			rest = rest[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, step{key: inner[1 : len(inner)-1]})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("JSONPath %q: [%s] is not an index or quoted key", p, inner)
			}
			steps = append(steps, step{index: n, isIdx: true})
		default:
			return nil, fmt.Errorf("JSONPath %q: unexpected %q", p, rest[0])
		}
	}
	return steps, nil
}

// EvalJSONPath evaluates a JSONPath against a decoded JSON document
// (map[string]any / []any as encoding/json produces).
func EvalJSONPath(doc any, path string) (any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	cur := doc
	for i, s := range steps {
		switch v := cur.(type) {
		case map[string]any:
			if s.isIdx {
				return nil, fmt.Errorf("%s: step %d indexes an object", path, i+1)
			}
			x, ok := v[s.key]
			if !ok {
				return nil, fmt.Errorf("%s: no key %q", path, s.key)
			}
			cur = x
		case []any:
			if !s.isIdx {
				return nil, fmt.Errorf("%s: key %q on an array", path, s.key)
			}
			if s.index >= len(v) {
				return nil, fmt.Errorf("%s: index %d out of range (%d items)", path, s.index, len(v))
			}
			cur = v[s.index]
		default:
			return nil, fmt.Errorf("%s: step %d goes into a %T", path, i+1, cur)
		}
	}
	return cur, nil
}

func decodeDoc(payload []byte) (any, error) {
	var doc any
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, fmt.Errorf("engrami: sample payload is not JSON: %w", err)
	}
	return doc, nil
}

// ApplyTransform evaluates an incoming-webhook transform against a sample
// payload, as Engrami would: the agent message and each metadata value.
func ApplyTransform(t Transform, payload []byte) (message string, metadata map[string]any, err error) {
	doc, err := decodeDoc(payload)
	if err != nil {
		return "", nil, err
	}
	m, err := EvalJSONPath(doc, t.Message)
	if err != nil {
		return "", nil, fmt.Errorf("engrami: transform.message: %w", err)
	}
	if s, ok := m.(string); ok {
		message = s
	} else {
		b, _ := json.Marshal(m)
		message = string(b)
	}
	metadata = make(map[string]any, len(t.Metadata))
	for k, p := range t.Metadata {
		v, err := EvalJSONPath(doc, p)
		if err != nil {
			return "", nil, fmt.Errorf("engrami: transform.metadata.%s: %w", k, err)
		}
		metadata[k] = v
	}
	return message, metadata, nil
}

// ApplyOutputMapping evaluates an action's output_mapping against a sample
// response.
func ApplyOutputMapping(mapping map[string]string, response []byte) (map[string]any, error) {
	doc, err := decodeDoc(response)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(mapping))
	for k, p := range mapping {
		v, err := EvalJSONPath(doc, p)
		if err != nil {
			return nil, fmt.Errorf("engrami: output_mapping.%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// --- templates ---------------------------------------------------------------

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}`)

// absent is what a declared but missing optional parameter renders as: a
// body key or header holding only it is left out, and inside a longer
// string it is empty.
type absentValue struct{}

var absent any = absentValue{}

// renderer fills templates; optional lists the declared parameters that
// may be missing (nil: every parameter is required).
type renderer struct {
	params   map[string]any
	secrets  map[string]string
	optional map[string]bool
}

func (r *renderer) lookup(name string) (any, error) {
	if s, ok := strings.CutPrefix(name, "secrets."); ok {
		v, ok := r.secrets[s]
		if !ok {
			return nil, fmt.Errorf("secret %q is not defined", s)
		}
		return v, nil
	}
	v, ok := r.params[name]
	if !ok {
		if r.optional[name] {
			return absent, nil
		}
		return nil, fmt.Errorf("parameter %q is missing", name)
	}
	return v, nil
}

// renderString fills {{...}} in s. A string that is exactly one
// placeholder becomes the value itself (an array stays an array).
func (r *renderer) renderString(s string) (any, error) {
	if m := placeholder.FindStringSubmatch(s); m != nil && m[0] == strings.TrimSpace(s) {
		return r.lookup(m[1])
	}
	var firstErr error
	out := placeholder.ReplaceAllStringFunc(s, func(tok string) string {
		name := placeholder.FindStringSubmatch(tok)[1]
		v, err := r.lookup(name)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return tok
		}
		if v == absent {
			return ""
		}
		if str, ok := v.(string); ok {
			return str
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	return out, firstErr
}

func (r *renderer) render(tmpl any) (any, error) {
	switch v := tmpl.(type) {
	case string:
		return r.renderString(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			got, err := r.render(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if got != absent {
				out[k] = got
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, x := range v {
			got, err := r.render(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if got != absent {
				out = append(out, got)
			}
		}
		return out, nil
	}
	return tmpl, nil
}

// RenderTemplate fills {{param}} and {{secrets.NAME}} placeholders in a
// template (strings, maps and slices, as decoded JSON); a missing parameter
// or secret is an error naming it.
func RenderTemplate(tmpl any, params map[string]any, secrets map[string]string) (any, error) {
	r := renderer{params: params, secrets: secrets}
	return r.render(tmpl)
}

// optionalParams lists the properties of schema that are not required.
func optionalParams(schema *JSONSchema) map[string]bool {
	if schema == nil {
		return nil
	}
	out := make(map[string]bool, len(schema.Properties))
	for k := range schema.Properties {
		out[k] = true
	}
	for _, k := range schema.Required {
		delete(out, k)
	}
	return out
}

// RenderedRequest is the HTTP request Engrami would send for a tool call.
type RenderedRequest struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    map[string]any
}

// Preview renders the request a tool call would make with params and the
// named secrets, without calling anything. A missing required parameter is
// an error; a missing optional one (declared in Parameters, not required)
// renders as absent: a body key or header holding only it is left out,
// and inside a longer string it is empty. An undeclared placeholder is an
// error.
func (t *Tool) Preview(params map[string]any, secrets map[string]string) (*RenderedRequest, error) {
	return preview("tool", "parameter", t.Name, t.Parameters, t.Endpoint, params, secrets)
}

// Preview renders the request an action would make with input.
func (a *Action) Preview(input map[string]any, secrets map[string]string) (*RenderedRequest, error) {
	return preview("action", "input", a.Name, a.InputSchema, a.Endpoint, input, secrets)
}

// preview renders e for the kind ("tool", "action") named name: every key
// schema requires must be in input (what names such a key in the error).
func preview(kind, what, name string, schema *JSONSchema, e Endpoint, input map[string]any, secrets map[string]string) (*RenderedRequest, error) {
	if schema != nil {
		for _, r := range schema.Required {
			if _, ok := input[r]; !ok {
				return nil, fmt.Errorf("engrami: %s %s: required %s %q is missing", kind, name, what, r)
			}
		}
	}
	return previewEndpoint(name, e, renderer{params: input, secrets: secrets, optional: optionalParams(schema)})
}

func previewEndpoint(name string, e Endpoint, r renderer) (*RenderedRequest, error) {
	u, err := r.renderString(e.URL)
	if err != nil {
		return nil, fmt.Errorf("engrami: %s: url: %w", name, err)
	}
	if u == absent {
		u = ""
	}
	req := &RenderedRequest{Method: strings.ToUpper(e.Method), URL: fmt.Sprint(u), Headers: map[string]string{}}
	for k, v := range e.Headers {
		h, err := r.renderString(v)
		if err != nil {
			return nil, fmt.Errorf("engrami: %s: header %s: %w", name, k, err)
		}
		if h == absent {
			continue
		}
		req.Headers[k] = fmt.Sprint(h)
	}
	if e.BodyTemplate != nil {
		b, err := r.render(map[string]any(e.BodyTemplate))
		if err != nil {
			return nil, fmt.Errorf("engrami: %s: body_template.%w", name, err)
		}
		req.Body = b.(map[string]any)
	}
	return req, nil
}
