package sivo_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/sivo"
)

// FuzzParseEvent: the envelope decoder never panics, keeps the raw bytes,
// and the typed accessor never panics either.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(docSample))
	f.Add([]byte(`{"id":"e","type":"call.ended","data":null}`))
	f.Add([]byte(`{"id":"e","type":"call.ended","data":{"duration_sec":"184"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := sivo.ParseEvent(body)
		if err != nil {
			return
		}
		if string(ev.Raw) != string(body) || ev.ID == "" || ev.Type == "" {
			t.Fatalf("bad parse: %+v", ev)
		}
		_, _ = ev.CallEnded()
		var m map[string]any
		_ = ev.DecodeData(&m)
	})
}
