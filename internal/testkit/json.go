package testkit

import (
	"bytes"
	"encoding/json"
)

// MarshalJS encodes v as the vendors' JavaScript JSON.stringify does:
// "&", "<" and ">" as is (Go escapes them), indented by indent per level
// ("" for compact), no trailing newline. A fake writing bodies this way
// makes a receiver that re-marshals a body before checking its signature
// fail against the fake as it would against the vendor.
func MarshalJS(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
