//go:build unix

package callsync_test

// Benchmark only (perf helper, issue 24): the CallSync receiver against a
// careful hand-written net/http handler.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
)

// BenchmarkReceive compares the full CallSync receiver (verify, parse,
// dedupe, callback under its deadline, answer) with a careful hand-written
// net/http handler that reads the body (bounded), verifies the HMAC in
// constant time and json.Unmarshals the event, both over loopback HTTP
// with parallel clients. Each iteration is one delivery of the guide's
// call_logged sample with its own payload_id. cpu-ns/op is this process's
// CPU time (clients and server) per delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	tmpl := bytes.Replace(callsynctest.Sample("call_logged", "wh_bench"), []byte(`"2026-04-28T11:58:13.000Z"`), []byte(`"`+now+`"`), 1)
	s, err := callsynctest.NewSender(secret)
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	run := func(b *testing.B, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.SetBytes(int64(len(tmpl)))
		b.ResetTimer()
		cpu0 := processCPU()
		defer func() {
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := strconv.FormatInt(seq.Add(1), 10)
				body := bytes.Replace(tmpl, []byte(`"wh_bench"`), []byte(`"wh_`+n+`"`), 1)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header = s.Sign(body)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		key := []byte(secret)
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				w.WriteHeader(400)
				return
			}
			got, err := hex.DecodeString(r.Header.Get(callsync.HeaderSignature))
			m := hmac.New(sha256.New, key)
			m.Write(body)
			if err != nil || !hmac.Equal(got, m.Sum(nil)) {
				w.WriteHeader(401)
				return
			}
			var ev callsync.Event
			if json.Unmarshal(body, &ev) != nil || ev.PayloadID == "" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{
			CallLogged: func(_ context.Context, ev *callsync.Event) error {
				if ev.PayloadID == "" {
					return io.ErrUnexpectedEOF
				}
				return nil
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Shutdown(context.Background())
		run(b, h)
	})
}

// processCPU is this process's user plus system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
