package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	svix "github.com/svix/svix-webhooks/go"
)

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"256KiB", 256 << 10}}

func benchBody(n int) []byte {
	b := bytes.Repeat([]byte(`{"k":"abcdefgh"},`), n/17+1)
	return b[:n]
}

// BenchmarkVerify compares, per body size and scheme, our verifier
// ("ours") with its floor: one bare crypto/hmac HMAC-SHA256, reused with
// Reset, over exactly the bytes the scheme signs ("id.ts.body" for
// Standard Webhooks, the body for the hex schemes). The official Svix
// library is measured too. Each sub-benchmark also reports the CPU time of
// its own thread per op (cpu-ns/op), which other load on a shared machine
// disturbs less than ns/op.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	id := "msg_2Ld9XJ3bqOdP7G1q8Z5hF4wTnKs"
	secretKey, _ := ParseStandardSecret(kaSecret)
	for _, size := range benchSizes {
		body := benchBody(size.n)
		signer, _ := NewStandardSigner(kaSecret)
		sig := mustSign(b, signer, id, now, body)
		h := standardHeader(id, ts, sig)

		b.Run(size.name+"/standard/floor", func(b *testing.B) {
			benchFloor(b, secretKey, []byte(id+"."+ts+"."), body)
		})
		b.Run(size.name+"/standard/ours", func(b *testing.B) {
			v, _ := NewStandard([]string{kaSecret}) // the real clock
			benchLoop(b, len(body), func() error { _, err := v.Verify(h, body); return err })
		})
		for _, hm := range []struct{ name, header, prefix string }{
			{"hex", "X-Hmac-Signature", ""},
			{"sha256", "X-Sivo-Signature", "sha256="},
		} {
			b.Run(size.name+"/"+hm.name+"/floor", func(b *testing.B) {
				benchFloor(b, []byte("secret"), nil, body)
			})
			b.Run(size.name+"/"+hm.name+"/ours", func(b *testing.B) {
				v, _ := NewHMAC(hm.header, hm.prefix, "secret")
				s, _ := NewHMACSigner(hm.header, hm.prefix, "secret")
				hh := http.Header{}
				_ = s.SignHeader(hh, body)
				benchLoop(b, len(body), func() error { _, err := v.Verify(hh, body); return err })
			})
		}
		b.Run(size.name+"/standard/svix", func(b *testing.B) {
			ref, _ := svix.NewWebhook(kaSecret)
			benchLoop(b, len(body), func() error { return ref.Verify(body, h) })
		})
	}
}

// benchFloor is one reused HMAC-SHA256 (Reset, Write, Sum into a fixed
// array) over prefix+body, the bytes a verifier must hash.
func benchFloor(b *testing.B, key, prefix, body []byte) {
	msg := append(append([]byte(nil), prefix...), body...)
	m := hmac.New(sha256.New, key)
	var out [32]byte
	benchLoop(b, len(body), func() error {
		m.Reset()
		m.Write(msg)
		m.Sum(out[:0])
		return nil
	})
}

func benchLoop(b *testing.B, n int, f func() error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := 0; i < b.N; i++ {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((threadCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkMiddleware measures one verified delivery through Middleware.
func BenchmarkMiddleware(b *testing.B) {
	b.Run("1KiB", func(b *testing.B) {
		now := time.Unix(1700000000, 0)
		body := benchBody(1 << 10)
		v, _ := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(now)))
		mw, _ := Middleware(v)
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		signer, _ := NewStandardSigner(kaSecret)
		hdr := standardHeader("msg_1", strconv.FormatInt(now.Unix(), 10), mustSign(b, signer, "msg_1", now, body))
		rd := bytes.NewReader(body)
		req := httptest.NewRequest("POST", "/hook", rd)
		req.Header = hdr
		rec := httptest.NewRecorder()
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			rd.Reset(body)
			req.Body = http.NoBody
			req.Body = readCloser{rd}
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
