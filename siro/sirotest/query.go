package sirotest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// badParams is the message of the 400 the fake answers for a query
// parameter it cannot read (Siro's standard 400).
const badParams = "Bad Request - Invalid parameters"

// queryReader reads the documented query parameters of one request and
// remembers whether any was malformed; the handler then answers 400 with
// reject, as Siro answers invalid parameters.
type queryReader struct {
	q   url.Values
	bad bool
}

func readQuery(r *http.Request) *queryReader { return &queryReader{q: r.URL.Query()} }

// time reads an ISO 8601 timestamp (YYYY-MM-DDTHH:mm:ss.sssZ, as Siro's
// documents write them); absent or empty is the zero time.
func (r *queryReader) time(key string) time.Time {
	v := r.q.Get(key)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		r.bad = true
	}
	return t
}

// boolean reads a string enum[true, false]; absent is nil.
func (r *queryReader) boolean(key string) *bool {
	switch r.q.Get(key) {
	case "":
		return nil
	case "true":
		t := true
		return &t
	case "false":
		f := false
		return &f
	}
	r.bad = true
	return nil
}

// size reads a page size: def when absent, and a malformed value when it
// is not an integer within lo..hi (hi 0: no upper bound).
func (r *queryReader) size(key string, def, lo, hi int) int {
	v := r.q.Get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		r.bad = true
		return def
	}
	return n
}

// reject answers 400 when a parameter was malformed and reports whether
// it did.
func (r *queryReader) reject(w http.ResponseWriter) bool {
	if r.bad {
		writeErr(w, http.StatusBadRequest, badParams)
	}
	return r.bad
}

// required reads the query of a route with required parameters: it
// answers 400 when one of keys is absent or empty.
func required(w http.ResponseWriter, r *http.Request, keys ...string) (url.Values, bool) {
	q := r.URL.Query()
	for _, k := range keys {
		if q.Get(k) == "" {
			writeErr(w, http.StatusBadRequest, badParams)
			return nil, false
		}
	}
	return q, true
}

// timeBounds are a list's date filters: After and Before exclusive,
// AtOrAfter and AtOrBefore inclusive; a zero bound does not filter.
type timeBounds struct {
	After, Before, AtOrAfter, AtOrBefore time.Time
}

// admit reports whether t passes every bound that is set.
func (b timeBounds) admit(t time.Time) bool {
	return (b.After.IsZero() || t.After(b.After)) &&
		(b.Before.IsZero() || t.Before(b.Before)) &&
		(b.AtOrAfter.IsZero() || !t.Before(b.AtOrAfter)) &&
		(b.AtOrBefore.IsZero() || !t.After(b.AtOrBefore))
}

// instant is the time a stored webhook.Time names: its parsed instant, or
// its text parsed again when only the text is set.
func instant(t webhook.Time) time.Time {
	if !t.IsZero() {
		return t.Time
	}
	p, _ := time.Parse(time.RFC3339Nano, t.Raw)
	return p
}

// pageKey is a position in a list sorted by updatedAt, then id.
type pageKey struct{ updatedAt, id string }

// cmp orders keys: updatedAt (Siro's fixed-width UTC text sorts as time
// does), then id.
func (k pageKey) cmp(o pageKey) int {
	if c := strings.Compare(k.updatedAt, o.updatedAt); c != 0 {
		return c
	}
	return strings.Compare(k.id, o.id)
}

// cursor is the opaque text a page's answer carries to continue after k.
func (k pageKey) cursor() string {
	return base64.RawURLEncoding.EncodeToString([]byte(k.updatedAt + "|" + k.id))
}

// keyCursor reads a cursor made by pageKey.cursor; absent is ok false.
func (r *queryReader) keyCursor(key string) (k pageKey, ok bool) {
	v := r.q.Get(key)
	if v == "" {
		return pageKey{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	at, id, found := strings.Cut(string(b), "|")
	if err != nil || !found {
		r.bad = true
		return pageKey{}, false
	}
	return pageKey{at, id}, true
}
