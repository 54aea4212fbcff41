package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
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

// BenchmarkVerify compares our verifiers with the official Svix library and
// with a floor of one bare HMAC-SHA256 over the same bytes.
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1700000000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	id := "msg_2Ld9XJ3bqOdP7G1q8Z5hF4wTnKs"
	secretKey, _ := ParseStandardSecret(kaSecret)
	for _, size := range benchSizes {
		body := benchBody(size.n)
		signer, _ := NewStandardSigner(kaSecret)
		sig := mustSign(b, signer, id, now, body)
		h := standardHeader(id, ts, sig)

		b.Run("standard/"+size.name, func(b *testing.B) {
			v, _ := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(now)))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, hm := range []struct{ name, header, prefix string }{
			{"hex", "X-Hmac-Signature", ""},
			{"prefixed", "X-Sivo-Signature", "sha256="},
		} {
			b.Run(hm.name+"/"+size.name, func(b *testing.B) {
				v, _ := NewHMAC(hm.header, hm.prefix, "secret")
				s, _ := NewHMACSigner(hm.header, hm.prefix, "secret")
				hh := http.Header{}
				_ = s.SignHeader(hh, body)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := v.Verify(hh, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("svix/"+size.name, func(b *testing.B) {
			// The official library reads time.Now(): sign with a fresh timestamp.
			ref, _ := svix.NewWebhook(kaSecret)
			fresh := time.Now()
			freshSig := mustSign(b, signer, id, fresh, body)
			hh := standardHeader(id, strconv.FormatInt(fresh.Unix(), 10), freshSig)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := ref.Verify(body, hh); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("floor/"+size.name, func(b *testing.B) {
			msg := append([]byte(id+"."+ts+"."), body...)
			m := hmac.New(sha256.New, secretKey)
			var out [32]byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m.Reset()
				m.Write(msg)
				m.Sum(out[:0])
			}
		})
	}
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
