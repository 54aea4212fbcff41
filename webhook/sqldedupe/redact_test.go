package sqldedupe

import (
	"fmt"
	"testing"
)

// TestStoreFormatRedacts: no verb prints the store's fields (database
// handle, table, keys); every one prints the redacted String.
func TestStoreFormatRedacts(t *testing.T) {
	s := &Store{table: "secret_table_name"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, s)
		if out != s.String() || out != "sqldedupe.Store{[redacted]}" {
			t.Errorf("%s: got %q", verb, out)
		}
	}
}
