//go:build unix

package symbo_test

// Benchmark only (perf helper, issue 24): the Symbo receiver against a
// careful hand-written net/http handler. Nothing here is part of the
// package's API.

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
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// BenchmarkReceive compares the full Symbo receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with a
// careful hand-written net/http handler that reads the body (bounded),
// verifies the HMAC in constant time and json.Unmarshals the event, both
// over loopback HTTP with parallel clients. Each iteration is one delivery
// of a ~1 KiB call:completed with its own event id. cpu-ns/op is this
// process's CPU time (clients and server) per delivery.
func BenchmarkReceive(b *testing.B) {
	const secret = "bench-secret"
	call := symbo.Call{ID: "call-1", Direction: "outbound", From: "+14155550100", To: "+14155550199",
		State: "completed", CallDisposition: "connected", Note: strings.Repeat("n", 400),
		TotalTalkTimeMillis: 184000, RepTalkTimeMillis: 90000, ProspectTalkTimeMillis: 80000,
		Prospect: symbo.Prospect{ID: "pros-1", ExternalID: "crm-1", FullName: "Ada Lovelace"}}
	tmpl := symbotest.Event("evt_bench", "call:completed", call)
	var seq atomic.Int64
	s, err := symbotest.NewSender(secret)
	if err != nil {
		b.Fatal(err)
	}
	next := func() []byte {
		id := strconv.FormatInt(seq.Add(1), 10)
		return bytes.Replace(tmpl, []byte(`"evt_bench"`), []byte(`"evt_`+id+`"`), 1)
	}
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
				body := next()
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
			got, err := hex.DecodeString(r.Header.Get(symbo.HeaderSignature))
			m := hmac.New(sha256.New, key)
			m.Write(body)
			if err != nil || !hmac.Equal(got, m.Sum(nil)) {
				w.WriteHeader(401)
				return
			}
			var ev symbo.CallEvent
			if json.Unmarshal(body, &ev) != nil || ev.ID == "" || ev.Data.ID == "" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{
			Call: func(_ context.Context, ev *symbo.CallEvent) error {
				if ev.Data.ID == "" {
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
