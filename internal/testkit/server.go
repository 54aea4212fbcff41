package testkit

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// FailOnce starts a loopback server that answers its first request with
// status and a Retry-After of retryAfter (none when empty), and every
// later one 200 with body. It is closed when the test ends; hits counts
// the requests it received.
func FailOnce(t testing.TB, status int, retryAfter, body string) (srv *httptest.Server, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}
