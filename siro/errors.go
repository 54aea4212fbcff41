package siro

import (
	"errors"
	"fmt"
	"time"

	"github.com/callcrm/callcrm-go/internal/apierr"
	"github.com/callcrm/callcrm-go/internal/core"
)

// The REST error and retry types (Error, Issue, DecodeError, RequestError,
// RetryPolicy, RetryInfo, the status sentinels) are shared with engrami
// through one template: see zz_errors.go.
//go:generate go run ../internal/gen/resterrors -vendor siro

// ErrNotDeleted is wrapped by the error of a delete (or unlink) that Siro
// answered 2xx with false: the request was accepted and nothing was
// deleted (an id that no longer exists, for one).
var ErrNotDeleted = errors.New("nothing was deleted (Siro answered false)")

// ErrCursorLoop is wrapped by the error an All* iterator yields last when
// Siro's cursors cycle: a page names as the next cursor one that an
// earlier page named. The list cannot be read to its end, and ending
// quietly would pass a part of it off as the whole. (A page that names
// the cursor it was fetched with means Siro ignores the cursor: that ends
// the list without an error.)
var ErrCursorLoop = apierr.ErrCursorLoop

// Token is a user API access token a TokenFunc returns. It never prints
// its Value.
type Token struct {
	// Value is the access token sent in x-siro-auth-token.
	Value string
	// Expiry is when the token stops working; zero means unknown (the
	// token is then used until Siro answers 401).
	Expiry time.Time
}

// String never prints the token value.
func (t Token) String() string { return core.Token(t).String() }

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, verb rune) { core.Token(t).Format(f, verb) }
