package sqldedupe

import (
	"fmt"
	"io"
)

// String describes the store without its database handle (whose
// connection settings may hold a password) or the keys it holds.
func (s *Store) String() string { return "sqldedupe.Store{[redacted]}" }

// GoString is String, so %#v redacts too.
func (s *Store) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *Store) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
