// Package fault is the fault injection the vendors' fake servers share
// (sirotest.Server.Fail, engramitest.Server.Fail), so "fail the next n
// requests to this route" means the same thing in every fake.
package fault

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rule answers the next Left requests matching Route with Status.
type Rule struct {
	// Method is the HTTP method to match ("" for any).
	Method string
	// Path is a prefix of the request path as the vendor documents it
	// ("" for any).
	Path string
	// Status is the status to answer.
	Status int
	// Left counts the requests still to fail.
	Left int
	// RetryAfter, when set, is sent as a Retry-After header.
	RetryAfter time.Duration
}

// Parse reads a route: "PATH" or "METHOD PATH", like http.ServeMux
// patterns ("" matches every request). A status net/http cannot write
// (outside 200 to 599) or a negative count is an error naming it, so the
// fake's handler never fails writing the fault.
func Parse(fake, route string, status, n int) (Rule, error) {
	if status < 200 || status > 599 {
		return Rule{}, fmt.Errorf("%s: Fail: status %d is not 200 to 599", fake, status)
	}
	if n < 0 {
		return Rule{}, fmt.Errorf("%s: Fail: count %d is negative", fake, n)
	}
	r := Rule{Status: status, Left: n}
	if m, p, ok := strings.Cut(route, " "); ok && m != "" && strings.ToUpper(m) == m {
		r.Method, r.Path = m, strings.TrimSpace(p)
	} else {
		r.Path = route
	}
	return r, nil
}

// Fail parses a fault as a fake's Fail takes it (Parse) and adds it,
// with a Retry-After of retryAfter when positive.
func (s *Set) Fail(fake, route string, status, n int, retryAfter time.Duration) error {
	r, err := Parse(fake, route, status, n)
	if err != nil {
		return err
	}
	r.RetryAfter = retryAfter
	s.Add(r)
	return nil
}

// Set is a list of rules, safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []Rule
}

// Add appends r.
func (s *Set) Add(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, r)
}

// Take returns the first rule matching method and path (the documented
// path) with requests left, counting this one, and whether there was one.
func (s *Set) Take(method, path string) (Rule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.rules {
		r := &s.rules[i]
		if r.Left > 0 && (r.Method == "" || r.Method == method) && strings.HasPrefix(path, r.Path) {
			r.Left--
			return *r, true
		}
	}
	return Rule{}, false
}

// Header sets the headers the rule asks for on w.
func (r Rule) Header(w http.ResponseWriter) {
	if r.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(r.RetryAfter.Round(time.Second)/time.Second)))
	}
}
