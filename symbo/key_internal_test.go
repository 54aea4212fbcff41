package symbo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// TestKeyIsTheMarshalledRevision: the delivery key built on the stack is
// the one json.Marshal of the revision gave (keys stored by earlier
// versions still match), for plain, escaped, HTML, non-ASCII, invalid
// UTF-8, empty, null and unparsed values.
func TestKeyIsTheMarshalledRevision(t *testing.T) {
	for _, v := range []string{`"call-1"`, `"a\"b\\c"`, `"<b>&amp;</b>"`, `"héllo \u2028"`, "\"\xff\xfe\"", `""`, `null`, `"\u0001\n"`} {
		for _, ts := range []string{`"2026-03-01T09:00:00.000Z"`, `"2026-03-01 09:00:00"`, `"023-01-11T20:19:40.000Z"`, `""`, `null`, `"<&>"`} {
			body := []byte(`{"id":"evt-1","description":"call:updated","data":{"id":` + v + `,"state":` + v + `,"updated_at":` + ts + `,"state_changed_at":` + ts + `}}`)
			ev, ok := decodeCall(body)
			if !ok {
				t.Fatalf("%s does not decode", body)
			}
			raw := func(x any) json.RawMessage { b, _ := json.Marshal(x); return b }
			parts, _ := json.Marshal([]any{ev.Type, raw(ev.Data.ID), raw(ev.Data.State), raw(ev.Data.UpdatedAt), raw(ev.Data.StateChangedAt)})
			sum := sha256.Sum256(parts)
			if got, want := ev.key(body), ev.ID+":"+hex.EncodeToString(sum[:8]); got != want {
				t.Errorf("%s: key %s, want %s", body, got, want)
			}
		}
	}
}
