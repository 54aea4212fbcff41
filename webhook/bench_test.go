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

		std, _ := NewStandard([]string{kaSecret}) // the real clock
		stdOurs := func() error { _, err := std.Verify(h, body); return err }
		stdFloor := floorFunc(secretKey, []byte(id+"."+ts+"."), body)
		b.Run(size.name+"/standard/floor", func(b *testing.B) { benchLoop(b, len(body), stdFloor) })
		b.Run(size.name+"/standard/ours", func(b *testing.B) { benchLoop(b, len(body), stdOurs) })
		b.Run(size.name+"/standard/pair", func(b *testing.B) { benchPair(b, len(body), stdFloor, stdOurs) })
		for _, hm := range []struct{ name, header, prefix string }{
			{"hex", "X-Hmac-Signature", ""},
			{"sha256", "X-Sivo-Signature", "sha256="},
		} {
			v, _ := NewHMAC(hm.header, hm.prefix, "secret")
			s, _ := NewHMACSigner(hm.header, hm.prefix, "secret")
			hh := http.Header{}
			_ = s.SignHeader(hh, body)
			ours := func() error { _, err := v.Verify(hh, body); return err }
			floor := floorFunc([]byte("secret"), nil, body)
			b.Run(size.name+"/"+hm.name+"/floor", func(b *testing.B) { benchLoop(b, len(body), floor) })
			b.Run(size.name+"/"+hm.name+"/ours", func(b *testing.B) { benchLoop(b, len(body), ours) })
			b.Run(size.name+"/"+hm.name+"/pair", func(b *testing.B) { benchPair(b, len(body), floor, ours) })
		}
		b.Run(size.name+"/standard/svix", func(b *testing.B) {
			ref, _ := svix.NewWebhook(kaSecret)
			benchLoop(b, len(body), func() error { return ref.Verify(body, h) })
		})
	}
}

// floorFunc is one reused HMAC-SHA256 (Reset, Write, Sum into a fixed
// array) over prefix+body, the bytes a verifier must hash, in one
// contiguous buffer (one Write: the cheapest way to hash them).
func floorFunc(key, prefix, body []byte) func() error {
	msg := append(append([]byte(nil), prefix...), body...)
	m := hmac.New(sha256.New, key)
	var out [32]byte
	return func() error {
		m.Reset()
		m.Write(msg)
		m.Sum(out[:0])
		return nil
	}
}

// benchPair runs floor and ours alternately, about 256 KiB of body (at
// least one call, at most 256) of each in turn on one locked thread, b.N
// calls of each in all, and reports the thread CPU time per call of each
// and their ratio (ours/floor): load from other processes on a shared
// machine falls on both alike, so the ratio is steadier than one taken
// from two separate sub-benchmarks. Its ns/op is for one floor call and
// one ours call together.
func benchPair(b *testing.B, n int, floor, ours func() error) {
	pairChunk := max(1, min(256, (256<<10)/max(n, 1)))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(2 * n))
	b.ReportAllocs()
	b.ResetTimer()
	var spent [2]time.Duration
	for done := 0; done < b.N; {
		k := min(pairChunk, b.N-done)
		for i, f := range [2]func() error{floor, ours} {
			cpu0 := threadCPU()
			for j := 0; j < k; j++ {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
			spent[i] += threadCPU() - cpu0
		}
		done += k
	}
	b.StopTimer()
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "ours-cpu-ns/op")
	if spent[0] > 0 {
		b.ReportMetric(float64(spent[1])/float64(spent[0]), "ours/floor")
	}
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
