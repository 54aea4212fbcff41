package engrami

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// JSONSchema describes tool parameters and action inputs. The common
// keywords are typed fields; every other keyword the schema carries (for
// example "oneOf", "$ref", "examples" or a vendor extension) is kept in
// Extra, so a schema read from Engrami or a file is sent back unchanged.
type JSONSchema struct {
	Type        string                 `json:"type,omitempty"`
	Title       string                 `json:"title,omitempty"`
	Description string                 `json:"description,omitempty"`
	Properties  map[string]*JSONSchema `json:"properties,omitempty"`
	Items       *JSONSchema            `json:"items,omitempty"`
	Required    []string               `json:"required,omitempty"`
	// Enum holds the allowed values of any JSON type ("low", 1, true).
	Enum []any `json:"enum,omitempty"`
	// Default is the value used when the parameter is absent.
	Default any    `json:"default,omitempty"`
	Format  string `json:"format,omitempty"`
	Pattern string `json:"pattern,omitempty"`

	MinLength        *int     `json:"minLength,omitempty"`
	MaxLength        *int     `json:"maxLength,omitempty"`
	Minimum          *float64 `json:"minimum,omitempty"`
	Maximum          *float64 `json:"maximum,omitempty"`
	ExclusiveMinimum *float64 `json:"exclusiveMinimum,omitempty"`
	ExclusiveMaximum *float64 `json:"exclusiveMaximum,omitempty"`
	MinItems         *int     `json:"minItems,omitempty"`
	MaxItems         *int     `json:"maxItems,omitempty"`
	// AdditionalProperties is false, true or a schema, as raw JSON.
	AdditionalProperties json.RawMessage `json:"additionalProperties,omitempty"`

	// Extra holds every other keyword, as raw JSON, written back as is. A
	// key that is also a typed field above is ignored on output.
	Extra map[string]json.RawMessage `json:"-"`
}

// jsonSchemaFields is JSONSchema without its methods.
type jsonSchemaFields JSONSchema

var knownKeywords = func() map[string]bool {
	m := map[string]bool{}
	b, _ := json.Marshal(jsonSchemaFields{
		Type: "x", Title: "x", Description: "x", Properties: map[string]*JSONSchema{}, Items: &JSONSchema{}, Required: []string{""},
		Enum: []any{0}, Default: 0, Format: "x", Pattern: "x", MinLength: new(int), MaxLength: new(int), Minimum: new(float64),
		Maximum: new(float64), ExclusiveMinimum: new(float64), ExclusiveMaximum: new(float64), MinItems: new(int), MaxItems: new(int),
		AdditionalProperties: json.RawMessage("true"),
	})
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(b, &keys)
	for k := range keys {
		m[k] = true
	}
	m["properties"] = true
	return m
}()

// UnmarshalJSON reads the typed keywords and keeps the others in Extra.
func (s *JSONSchema) UnmarshalJSON(b []byte) error {
	var f jsonSchemaFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if !knownKeywords[k] {
			if f.Extra == nil {
				f.Extra = map[string]json.RawMessage{}
			}
			f.Extra[k] = v
		}
	}
	*s = JSONSchema(f)
	return nil
}

// MarshalJSON writes the typed keywords and then Extra, keys sorted.
func (s JSONSchema) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(jsonSchemaFields(s))
	if err != nil || len(s.Extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(s.Extra))
	for k := range s.Extra {
		if !knownKeywords[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	first := len(b) == 2 // "{}"
	for _, k := range keys {
		v := s.Extra[k]
		if !json.Valid(v) {
			return nil, fmt.Errorf("engrami: JSONSchema.Extra[%q] is not valid JSON", k)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (s *JSONSchema) validate(path string) error {
	if s == nil {
		return fmt.Errorf("%s is missing", path)
	}
	if s.Type == "" {
		return fmt.Errorf("%s.type is required", path)
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			return fmt.Errorf("%s.required names %q, which is not in properties", path, r)
		}
	}
	for k, p := range s.Properties {
		if err := p.validate(path + ".properties." + k); err != nil {
			return err
		}
	}
	return nil
}
