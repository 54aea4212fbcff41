//go:build unix

package siro_test

// Benchmark only (perf helper, issue 24): the Siro receiver against a
// careful hand-written net/http handler.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// BenchmarkReceive compares the full Siro receiver (Standard Webhooks
// verification, parse, dedupe, callback under its deadline, answer) with a
// careful hand-written net/http handler that reads the body (bounded),
// checks the timestamp window and the v1 signature in constant time and
// json.Unmarshals the event, both over loopback HTTP with parallel
// clients. Each iteration is one ~1 KiB recording.processed delivery with
// its own svix-id. cpu-ns/op is this process's CPU time per delivery.
func BenchmarkReceive(b *testing.B) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("bench-secret-bench-secret-32byte"))
	signer, err := webhook.NewStandardSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	tmpl, _ := json.Marshal(map[string]any{"recordingId": "rec_bench", "siroUserId": "user_1", "eventType": siro.EventRecordingProcessed,
		"recordingProcessed": true, "recordingLinked": false, "crm": map[string]any{"engagement": map[string]any{"externalId": "eng-1", "notes": strings.Repeat("n", 800)}}})
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
				body := bytes.Replace(tmpl, []byte(`"rec_bench"`), []byte(`"rec_`+n+`"`), 1)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Svix-Id", "msg_"+n)
				if err := signer.SignHeader(req.Header, body); err != nil {
					b.Error(err)
					return
				}
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
		key, _ := webhook.ParseStandardSecret(secret)
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				w.WriteHeader(400)
				return
			}
			id, ts := r.Header.Get("Svix-Id"), r.Header.Get("Svix-Timestamp")
			secs, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || id == "" || time.Since(time.Unix(secs, 0)).Abs() > 5*time.Minute {
				w.WriteHeader(400)
				return
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte(id + "." + ts + "."))
			m.Write(body)
			want := base64.StdEncoding.EncodeToString(m.Sum(nil))
			ok := false
			for _, sig := range strings.Fields(r.Header.Get("Svix-Signature")) {
				if v, s, found := strings.Cut(sig, ","); found && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
					ok = true
				}
			}
			var ev siro.RecordingEvent
			if !ok {
				w.WriteHeader(401)
				return
			}
			if json.Unmarshal(body, &ev) != nil || ev.RecordingID == "" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
	})
	b.Run("handler", func(b *testing.B) {
		h, err := siro.NewHandler([]string{secret}, siro.Callbacks{
			RecordingProcessed: func(_ context.Context, e *siro.RecordingEvent) error {
				if e.RecordingID == "" {
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
