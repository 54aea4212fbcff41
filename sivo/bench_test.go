package sivo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// benchEvent is a SIVO call.ended padded to 1 KiB, the size of a real CDR.
func benchEvent(b *testing.B) *sivo.Event {
	ev, err := sivotest.NewEvent("evt_bench", sivo.EventCallEnded, time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC), map[string]any{
		"callId": "uuid-call", "direction": "inbound", "from": "+34611222333", "to": "+34911234567",
		"duration_sec": 184, "agentId": "uuid-agent", "queueId": "uuid-queue", "mosScore": 4.3,
		"hangupCause": "NORMAL_CLEARING", "notes": strings.Repeat("x", 1024-330),
	})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(ev.Raw); n < 1000 || n > 1100 {
		b.Fatalf("event is %d bytes, want about 1 KiB", n)
	}
	return ev
}

// BenchmarkReceive compares the full SIVO receiver (read, verify, parse,
// dedupe reserve and commit, callback under its deadline, answer) with a
// bare net/http handler that only reads the body and json.Unmarshals it,
// both over loopback HTTP with parallel clients. Each iteration is one
// delivery with its own event id.
func BenchmarkReceive(b *testing.B) {
	ev := benchEvent(b)
	var seq atomic.Int64
	s, _ := sivotest.NewSender("bench-secret")
	bodies := func() []byte {
		id := seq.Add(1)
		return bytes.Replace(ev.Raw, []byte(`"evt_bench"`), []byte(`"evt_`+itoa(id)+`"`), 1)
	}
	run := func(b *testing.B, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.SetBytes(int64(len(ev.Raw)))
		b.ResetTimer()
		cpu0 := cpuTime()
		defer func() {
			// CPU time per delivery (client and server, this process): less
			// sensitive than ns/op to other load on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := bodies()
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
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			var e sivo.Event
			if err != nil || json.Unmarshal(body, &e) != nil {
				w.WriteHeader(400)
				return
			}
			var c sivo.CallEnded
			if json.Unmarshal(e.Data, &c) != nil || c.CallID == "" {
				w.WriteHeader(400)
				return
			}
			w.WriteHeader(200)
		}))
	})
	cb := sivo.Callbacks{
		CallEnded: func(_ context.Context, _ *sivo.Event, c *sivo.CallEnded) error {
			if c.CallID == "" {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
	}
	b.Run("handler", func(b *testing.B) {
		h, err := sivo.NewHandler([]string{"bench-secret"}, cb)
		if err != nil {
			b.Fatal(err)
		}
		run(b, h)
	})
	// source: the secrets come from a webhook.SecretSource on every
	// delivery (the verifier is cached per tenant and secret list).
	b.Run("source", func(b *testing.B) {
		src := webhook.SecretsFunc(func(context.Context, string) ([]string, error) { return []string{"bench-secret"}, nil })
		h, err := sivo.NewHandler(nil, cb, webhook.WithSecretSource(src, webhook.FixedTenant("acme")))
		if err != nil {
			b.Fatal(err)
		}
		run(b, h)
	})
	// source-cached: the same through a webhook.SecretCache (30 s TTL).
	b.Run("source-cached", func(b *testing.B) {
		src := webhook.SecretsFunc(func(context.Context, string) ([]string, error) { return []string{"bench-secret"}, nil })
		cache, err := webhook.NewSecretCache(src, 30*time.Second, nil)
		if err != nil {
			b.Fatal(err)
		}
		h, err := sivo.NewHandler(nil, cb, webhook.WithSecretSource(cache, webhook.FixedTenant("acme")))
		if err != nil {
			b.Fatal(err)
		}
		run(b, h)
	})
}

// cpuTime is this process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func itoa(n int64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
