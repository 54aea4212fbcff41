// Package benchkit is the loopback benchmark runner the receive
// benchmarks share: a real HTTP server on loopback, parallel clients,
// CPU time per delivery from getrusage and a status check on every
// answer. It knows no vendor; each vendor's bench_test.go says how to
// build and sign its deliveries and what its hand-written baseline
// checks. Only _test files import it.
package benchkit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// Delivery builds the n-th request of a run (n counts from 1 across all
// parallel clients): its body and its signed headers.
type Delivery func(n int64) (body []byte, header http.Header)

// Receive serves h over loopback HTTP and sends it b.N deliveries from
// parallel clients (RunParallel), each built by next; every answer must
// be 200. It reports allocations, size bytes per op and cpu-ns/op: this
// process's CPU time (clients and server) per delivery, less sensitive
// than ns/op to other load on a shared machine.
func Receive(b *testing.B, h http.Handler, size int, next Delivery) {
	b.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	defer CPUPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, header := next(seq.Add(1))
			if err := deliver(client, srv.URL, body, header); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// deliver POSTs one delivery to url and drains the answer, which must be
// 200.
func deliver(client *http.Client, url string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("answered " + resp.Status)
	}
	return nil
}

// CPUPerOp starts counting this process's CPU time and returns the
// function that reports it per iteration as cpu-ns/op (call it when the
// timed loop ends: defer benchkit.CPUPerOp(b)()). It reports nothing
// where CPUTime is not measured.
func CPUPerOp(b *testing.B) func() {
	cpu0 := CPUTime()
	return func() {
		if cpu := CPUTime(); cpu > 0 && b.N > 0 {
			b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// Renumber returns tmpl with its first JSON string "placeholder" replaced
// by "prefix" followed by n, so each delivery carries its own id.
func Renumber(tmpl []byte, placeholder, prefix string, n int64) []byte {
	return bytes.Replace(tmpl, []byte(strconv.Quote(placeholder)), []byte(strconv.Quote(prefix+strconv.FormatInt(n, 10))), 1)
}
