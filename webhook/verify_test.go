package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	svix "github.com/svix/svix-webhooks/go"
)

// Known-answer vector from the Standard Webhooks / Svix documentation.
const (
	kaSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	kaID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	kaTS     = "1614265330"
	kaBody   = `{"test": 2432232314}`
	kaSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// mustSign signs with s and fails the test on an error.
func mustSign(tb testing.TB, s *StandardSigner, id string, ts time.Time, body []byte) string {
	tb.Helper()
	sig, err := s.Sign(id, ts, body)
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

func kaTime() time.Time { return time.Unix(1614265330, 0) }

func standardHeader(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set("svix-id", id)
	h.Set("svix-timestamp", ts)
	h.Set("svix-signature", sig)
	return h
}

func TestStandardKnownAnswer(t *testing.T) {
	fake := clock.NewFake(kaTime())
	v, err := NewStandard([]string{kaSecret}, WithSignatureClock(fake))
	require.NoError(t, err)
	d, err := v.Verify(standardHeader(kaID, kaTS, kaSig), []byte(kaBody))
	require.NoError(t, err)
	assert.Equal(t, kaID, d.ID)
	assert.Equal(t, kaTime(), d.Timestamp)

	s, err := NewStandardSigner(kaSecret)
	require.NoError(t, err)
	assert.Equal(t, kaSig, mustSign(t, s, kaID, kaTime(), []byte(kaBody)))

	// The webhook-* header names work too.
	h := http.Header{}
	h.Set("webhook-id", kaID)
	h.Set("webhook-timestamp", kaTS)
	h.Set("webhook-signature", "v1a,xxxx "+kaSig)
	_, err = v.Verify(h, []byte(kaBody))
	require.NoError(t, err)
}

func TestHMACKnownAnswerGitHub(t *testing.T) {
	// GitHub's documented example.
	const secret = "It's a Secret to Everybody"
	const body = "Hello, World!"
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	s, err := NewHMACSigner("X-Hub-Signature-256", "sha256=", secret)
	require.NoError(t, err)
	assert.Equal(t, want, s.Sign([]byte(body)))
	v, err := NewHMAC("X-Hub-Signature-256", "sha256=", secret)
	require.NoError(t, err)
	for _, sig := range []string{want, strings.ToUpper(want[:7]) + strings.ToUpper(want[7:])} {
		h := http.Header{}
		h.Set("X-Hub-Signature-256", sig)
		_, err = v.Verify(h, []byte(body))
		require.NoError(t, err, sig)
	}
	// Plain hex scheme.
	hv, err := NewHMAC("X-Hmac-Signature", "", secret)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("X-Hmac-Signature", want[len("sha256="):])
	_, err = hv.Verify(h, []byte(body))
	require.NoError(t, err)
}

func TestManualHMACMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		key := make([]byte, r.IntN(200)+1) // covers keys longer than the block
		body := make([]byte, r.IntN(3000))
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		for j := range body {
			body[j] = byte(r.Uint32())
		}
		s, err := NewHMACSigner("X-S", "", string(key))
		require.NoError(t, err)
		m := hmac.New(sha256.New, key)
		m.Write(body)
		assert.Equal(t, hex.EncodeToString(m.Sum(nil)), s.Sign(body))
	}
}

func TestRotationSecretIndex(t *testing.T) {
	old, newer := "whsec_"+base64.StdEncoding.EncodeToString([]byte("old-secret-bytes")), "whsec_"+base64.StdEncoding.EncodeToString([]byte("new-secret-bytes"))
	fake := clock.NewFake(kaTime())
	v, err := NewStandard([]string{newer, old}, WithSignatureClock(fake))
	require.NoError(t, err)
	s, err := NewStandardSigner(old)
	require.NoError(t, err)
	sig := mustSign(t, s, "msg_1", kaTime(), []byte("{}"))
	d, err := v.Verify(standardHeader("msg_1", kaTS, sig), []byte("{}"))
	require.NoError(t, err)
	assert.Equal(t, 1, d.SecretIndex)

	hv, err := NewHMAC("X-Sig", "", "new", "old")
	require.NoError(t, err)
	hs, _ := NewHMACSigner("X-Sig", "", "old")
	h := http.Header{}
	require.NoError(t, hs.SignHeader(h, []byte("x")))
	d, err = hv.Verify(h, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, 1, d.SecretIndex)
}

func TestConstructionRefuses(t *testing.T) {
	cases := map[string][]string{
		"empty":          {""},
		"none":           {},
		"not base64":     {"whsec_!!!notbase64"},
		"empty after":    {"whsec_"},
		"signature":      {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		"trailing space": {kaSecret + " "},
		"one bad of two": {kaSecret, ""},
	}
	for name, secrets := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewStandard(secrets)
			require.ErrorIs(t, err, ErrInvalidSecret)
		})
	}
	_, err := NewStandard([]string{"v1,abc"})
	assert.Contains(t, err.Error(), "signature")
	_, err = NewStandardRaw([][]byte{{}})
	assert.ErrorIs(t, err, ErrInvalidSecret)
	_, err = NewStandard([]string{kaSecret}, WithSignatureTolerance(0))
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = NewHMAC("X", "")
	assert.ErrorIs(t, err, ErrInvalidSecret)
	_, err = NewHMAC("X", "", "")
	assert.ErrorIs(t, err, ErrInvalidSecret)
	_, err = NewHMAC("", "", "s")
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, err = NewHMACSigner("X", "", "")
	assert.ErrorIs(t, err, ErrInvalidSecret)
	// The secret never appears in a construction error.
	_, err = NewStandard([]string{"whsec_c2VjcmV0!!"})
	assert.NotContains(t, err.Error(), "c2VjcmV0")
}

func TestTimestampWindow(t *testing.T) {
	base := kaTime()
	fake := clock.NewFake(base)
	v, err := NewStandard([]string{kaSecret}, WithSignatureClock(fake), WithSignatureTolerance(time.Minute))
	require.NoError(t, err)
	check := func(offset time.Duration) error {
		fake.Set(base.Add(offset))
		_, err := v.Verify(standardHeader(kaID, kaTS, kaSig), []byte(kaBody))
		return err
	}
	assert.NoError(t, check(time.Minute))
	assert.ErrorIs(t, check(time.Minute+time.Second), ErrTimestampTooOld)
	assert.NoError(t, check(-time.Minute))
	assert.ErrorIs(t, check(-time.Minute-time.Second), ErrTimestampTooNew)

	skip, err := NewStandard([]string{kaSecret}, WithSignatureClock(fake), InsecureSkipSignatureTimestamp())
	require.NoError(t, err)
	fake.Set(base.Add(1000 * time.Hour))
	_, err = skip.Verify(standardHeader(kaID, kaTS, kaSig), []byte(kaBody))
	assert.NoError(t, err)
}

// TestDifferentialSvix compares signatures and accept/reject decisions with
// the official Svix Go library on random inputs. Deliberate differences,
// where ours is stricter, are excluded from the comparison by construction
// and listed in TestStricterThanSvix.
func TestDifferentialSvix(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	now := time.Now()
	ours := map[string]*Standard{}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		key := make([]byte, 1+r.IntN(64))
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
		ref, err := svix.NewWebhook(secret)
		require.NoError(t, err)
		v := ours[secret]
		if v == nil {
			v, err = NewStandard([]string{secret})
			require.NoError(t, err)
			ours[secret] = v
		}
		id := fmt.Sprintf("msg_%x", r.Uint64())
		ts := now.Add(time.Duration(r.IntN(1200)-600) * time.Second)
		body := make([]byte, r.IntN(2048))
		for j := range body {
			body[j] = byte(r.Uint32())
		}
		refSig, err := ref.Sign(id, ts, body)
		require.NoError(t, err)
		signer, err := NewStandardSigner(secret)
		require.NoError(t, err)
		require.Equal(t, refSig, mustSign(t, signer, id, ts, body), "same signature")

		// Build a header of several signatures, some wrong, some other versions.
		var parts []string
		for k := 0; k < r.IntN(4); k++ {
			junk := make([]byte, 32)
			for j := range junk {
				junk[j] = byte(r.Uint32())
			}
			parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(junk))
		}
		if r.IntN(3) > 0 {
			parts = append(parts, refSig)
		}
		if r.IntN(4) == 0 {
			parts = append(parts, "v2,"+refSig[3:])
		}
		r.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
		if len(parts) == 0 {
			parts = []string{"v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))}
		}
		sendBody := body
		if r.IntN(5) == 0 && len(body) > 0 {
			sendBody = append([]byte(nil), body...)
			sendBody[r.IntN(len(body))] ^= 1 << r.IntN(8)
		}
		h := standardHeader(id, strconv.FormatInt(ts.Unix(), 10), strings.Join(parts, " "))
		refErr := ref.Verify(sendBody, h)
		_, ourErr := v.Verify(h, sendBody)
		require.Equal(t, refErr == nil, ourErr == nil, "case %d: svix %v, ours %v", i, refErr, ourErr)
		if refErr != nil {
			// Same reason, in our sentinel vocabulary.
			switch refErr.Error() {
			case "message timestamp too old":
				require.ErrorIs(t, ourErr, ErrTimestampTooOld)
			case "message timestamp too new":
				require.ErrorIs(t, ourErr, ErrTimestampTooNew)
			case "no matching signature found":
				// A header with no v1 entry at all is malformed for us.
				if !errors.Is(ourErr, ErrMalformed) {
					require.ErrorIs(t, ourErr, ErrNoMatchingSignature)
				}
			}
		}
	}
}

// TestStricterThanSvix documents, case by case, where we refuse what the
// Svix library accepts.
func TestStricterThanSvix(t *testing.T) {
	ref, err := svix.NewWebhook(kaSecret)
	require.NoError(t, err)
	now := time.Now()
	v, err := NewStandard([]string{kaSecret})
	require.NoError(t, err)
	signer, _ := NewStandardSigner(kaSecret)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := mustSign(t, signer, "msg_1", now, []byte("{}"))
	cases := map[string]struct {
		h    http.Header
		want error
	}{
		// Svix parses the timestamp and signs its canonical form, so a
		// leading "+" or zero verifies there; we sign the timestamp as
		// received and accept only canonical decimal seconds.
		"timestamp with plus sign":    {standardHeader("msg_1", "+"+ts, sig), ErrMalformed},
		"timestamp with leading zero": {standardHeader("msg_1", "0"+ts, sig), ErrMalformed},
		// Svix reads the first of duplicated headers; we refuse ambiguity.
		"duplicated signature header": {func() http.Header {
			h := standardHeader("msg_1", ts, sig)
			h.Add("svix-signature", "v1,AAAA")
			return h
		}(), ErrMalformed},
		// Svix takes the second comma-separated field; a third means the
		// entry is not "v1,<base64>".
		"extra comma field": {standardHeader("msg_1", ts, sig+",extra"), ErrMalformed},
		// Svix signs "id.timestamp.body" with any id; a dot makes that
		// ambiguous and a space or tab is not one header token. Our verifier
		// and our signer both refuse such ids.
		"id with dot":   {standardHeader("msg.1", ts, svixSign(t, ref, "msg.1", now)), ErrMalformed},
		"id with space": {standardHeader("msg 1", ts, svixSign(t, ref, "msg 1", now)), ErrMalformed},
		"id with tab":   {standardHeader("msg\t1", ts, svixSign(t, ref, "msg\t1", now)), ErrMalformed},
	}
	for _, id := range []string{"msg.1", "msg 1", "msg\t1"} {
		_, err := signer.Sign(id, now, []byte("{}"))
		assert.ErrorIs(t, err, ErrMalformed, "our signer refuses id %q", id)
		h := http.Header{"Svix-Id": {id}}
		assert.ErrorIs(t, signer.SignHeader(h, []byte("{}")), ErrMalformed, "SignHeader refuses id %q", id)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, ref.Verify([]byte("{}"), tc.h), "svix accepts")
			_, err := v.Verify(tc.h, []byte("{}"))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func svixSign(t *testing.T, ref *svix.Webhook, id string, ts time.Time) string {
	t.Helper()
	sig, err := ref.Sign(id, ts, []byte("{}"))
	require.NoError(t, err)
	return sig
}

// TestStandardChecksEveryWellFormedSignature: the genuine signature after
// many wrong ones (once limited to the first 8) still verifies, as in Svix.
func TestStandardChecksEveryWellFormedSignature(t *testing.T) {
	ref, err := svix.NewWebhook(kaSecret)
	require.NoError(t, err)
	v, err := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(kaTime())))
	require.NoError(t, err)
	for _, wrong := range []int{8, 9, 64} {
		parts := make([]string, 0, wrong+1)
		for i := 0; i < wrong; i++ {
			junk := sha256.Sum256([]byte{byte(i)})
			parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(junk[:]))
		}
		parts = append(parts, kaSig)
		h := standardHeader(kaID, kaTS, strings.Join(parts, " "))
		require.NoError(t, ref.VerifyIgnoringTimestamp([]byte(kaBody), h), "svix accepts")
		_, err := v.Verify(h, []byte(kaBody))
		assert.NoError(t, err, "%d wrong signatures before the genuine one", wrong)
	}
}

// TestStandardStrictBase64: a signature spelled with non-zero padding bits
// decodes to the same bytes under lenient base64; only the canonical
// spelling verifies (as in Svix, which compares the text).
func TestStandardStrictBase64(t *testing.T) {
	v, err := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(kaTime())))
	require.NoError(t, err)
	// kaSig ends in "E=": the last character carries 4 data bits and 2
	// padding bits. Setting a padding bit gives another spelling.
	b64 := kaSig[3:]
	last := strings.IndexByte(b64, '=') - 1
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	alt := b64[:last] + string(alphabet[strings.IndexByte(alphabet, b64[last])|1]) + b64[last+1:]
	require.NotEqual(t, b64, alt)
	dec, err := base64.StdEncoding.DecodeString(alt)
	require.NoError(t, err, "lenient base64 accepts the other spelling")
	canon, _ := base64.StdEncoding.DecodeString(b64)
	require.Equal(t, canon, dec, "same bytes")
	_, err = v.Verify(standardHeader(kaID, kaTS, "v1,"+alt), []byte(kaBody))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = v.Verify(standardHeader(kaID, kaTS, kaSig), []byte(kaBody))
	assert.NoError(t, err)
}

// TestStandardOtherVersionOnlyIsNoMatch: a header holding only entries of
// another version is well-formed under Standard Webhooks: 401 no matching
// signature, not 400 malformed.
func TestStandardOtherVersionOnlyIsNoMatch(t *testing.T) {
	v, err := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(kaTime())))
	require.NoError(t, err)
	for _, sig := range []string{"v2," + kaSig[3:], "v1a,abc v2,def"} {
		_, err = v.Verify(standardHeader(kaID, kaTS, sig), []byte(kaBody))
		assert.ErrorIs(t, err, ErrNoMatchingSignature, sig)
		assert.Equal(t, http.StatusUnauthorized, StatusCode(err), sig)
	}
	// No well-formed entry at all stays malformed.
	_, err = v.Verify(standardHeader(kaID, kaTS, "garbage"), []byte(kaBody))
	assert.ErrorIs(t, err, ErrMalformed)
}

// TestVerifiersSignersStoresRedact: every verb prints the redacted String,
// never the HMAC pad states (which are equivalent to the key).
func TestVerifiersSignersStoresRedact(t *testing.T) {
	const hmacSecret = "hmac-secret-value"
	hv, err := NewHMAC("X-Sig", "sha256=", hmacSecret)
	require.NoError(t, err)
	sv, err := NewStandard([]string{kaSecret})
	require.NoError(t, err)
	hs, err := NewHMACSigner("X-Sig", "", hmacSecret)
	require.NoError(t, err)
	ss, err := NewStandardSigner(kaSecret)
	require.NoError(t, err)
	md, err := NewMemoryDedupe(time.Hour)
	require.NoError(t, err)
	pads := [][]byte{hv.keys[0].inner, hv.keys[0].outer, sv.keys[0].inner, hs.key.inner, ss.key.outer}
	for _, x := range []fmt.Stringer{hv, sv, hs, ss, md} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, x)
			assert.Equal(t, x.String(), out, "%T with %s", x, verb)
			assert.Contains(t, out, "redacted")
			assert.NotContains(t, out, hmacSecret)
			for _, p := range pads {
				assert.NotContains(t, out, fmt.Sprint(p[len(p)-8:]))
				assert.NotContains(t, out, fmt.Sprintf("%x", p[len(p)-8:]))
			}
		}
	}
	// Values (not only pointers) redact too.
	assert.Equal(t, hv.String(), fmt.Sprintf("%#v", *hv))
	assert.Equal(t, sv.String(), fmt.Sprintf("%+v", *sv))
}

// --- middleware: a table of bad deliveries -------------------------------

func TestSendSignsAndPosts(t *testing.T) {
	fake := clock.NewFake(time.Now())
	v, _ := NewStandard([]string{kaSecret}, WithSignatureClock(fake))
	mw, _ := Middleware(v)
	var got string
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	})))
	defer srv.Close()
	s, err := NewStandardSigner(kaSecret, WithSignatureClock(fake))
	require.NoError(t, err)
	resp, err := Send(context.Background(), srv.Client(), srv.URL, s, []byte(`{"a":1}`), http.Header{"X-Extra": {"1"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, `{"a":1}`, got)
	assert.True(t, strings.HasPrefix(NewMessageID(), "msg_"))
	assert.NotEqual(t, NewMessageID(), NewMessageID())
}

func TestStatusCode(t *testing.T) {
	assert.Equal(t, 200, StatusCode(nil))
	assert.Equal(t, 500, StatusCode(errors.New("x")))
	assert.Equal(t, 409, StatusCode(ErrInProgress))
}

// TestEqualHexFoldAcceptsOnlyHexDigits: the case fold used by the
// constant-time hex comparison maps exactly 'A'-'F' onto 'a'-'f'; no other
// byte folds onto a hex digit, so a match still means valid hex.
func TestEqualHexFoldAcceptsOnlyHexDigits(t *testing.T) {
	mac := make([]byte, 32)
	for i := range mac {
		mac[i] = byte(i * 37)
	}
	want := hex.EncodeToString(mac)
	require.True(t, equalHex(mac, want))
	require.True(t, equalHex(mac, strings.ToUpper(want)))
	for pos := range len(want) {
		for c := 0; c < 256; c++ {
			b := []byte(want)
			b[pos] = byte(c)
			ok := equalHex(mac, string(b))
			same := byte(c) == want[pos] || (want[pos] >= 'a' && want[pos] <= 'f' && byte(c) == want[pos]-32)
			if ok != same {
				t.Fatalf("position %d byte %#x: equalHex %v, want %v", pos, c, ok, same)
			}
		}
	}
	require.False(t, equalHex(mac, want[:62]))
}

// TestEqualBase64IsStrict: only the canonical spelling matches; a spelling
// with non-zero padding bits (which lenient decoders accept) does not.
func TestEqualBase64IsStrict(t *testing.T) {
	for n := range 64 {
		mac := make([]byte, 32)
		for i := range mac {
			mac[i] = byte(i*n + 7)
		}
		enc := base64.StdEncoding.EncodeToString(mac)
		require.True(t, equalBase64(mac, enc))
		// The last data character carries 2 padding bits for 32 bytes.
		last := strings.IndexByte(base64Alphabet, enc[42])
		for bits := 1; bits < 4; bits++ {
			alt := []byte(enc)
			alt[42] = base64Alphabet[last|bits]
			if string(alt) != enc {
				require.False(t, equalBase64(mac, string(alt)))
			}
		}
		flipped := []byte(enc)
		flipped[n%43] ^= 1
		require.False(t, equalBase64(mac, string(flipped)))
	}
	require.False(t, equalBase64(make([]byte, 32), "short"))
}

// TestStandardRealClockWindow: with the real clock (read through the
// cheaper wall clock) a fresh delivery verifies and one outside the
// window does not, in both directions.
func TestStandardRealClockWindow(t *testing.T) {
	v, err := NewStandard([]string{kaSecret}, WithSignatureTolerance(time.Minute))
	require.NoError(t, err)
	signer, err := NewStandardSigner(kaSecret)
	require.NoError(t, err)
	body := []byte(`{"ok":true}`)
	for _, tc := range []struct {
		offset time.Duration
		want   error
	}{{0, nil}, {-50 * time.Second, nil}, {50 * time.Second, nil}, {-2 * time.Minute, ErrTimestampTooOld}, {2 * time.Minute, ErrTimestampTooNew}} {
		ts := time.Now().Add(tc.offset)
		sig, err := signer.Sign("msg_1", ts, body)
		require.NoError(t, err)
		_, err = v.Verify(standardHeader("msg_1", strconv.FormatInt(ts.Unix(), 10), sig), body)
		if tc.want == nil {
			require.NoError(t, err, "offset %v", tc.offset)
		} else {
			require.ErrorIs(t, err, tc.want, "offset %v", tc.offset)
		}
	}
	_, err = v.Verify(standardHeader("msg_1", "999999999999999999", "v1,"+strings.Repeat("A", 43)+"="), body)
	require.ErrorIs(t, err, ErrTimestampTooNew, "a timestamp beyond int64 nanoseconds does not overflow")
}

// TestVerifyAllocatesNothing: both schemes verify (and refuse a wrong
// signature) without allocating on the success path.
func TestVerifyAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	body := []byte(strings.Repeat("x", 1024))
	v, err := NewStandard([]string{kaSecret})
	require.NoError(t, err)
	signer, _ := NewStandardSigner(kaSecret)
	now := time.Now()
	sig, _ := signer.Sign("msg_1", now, body)
	h := standardHeader("msg_1", strconv.FormatInt(now.Unix(), 10), "v1,"+strings.Repeat("A", 43)+"= "+sig)
	hv, _ := NewHMAC("X-Sig", "sha256=", "secret")
	hs, _ := NewHMACSigner("X-Sig", "sha256=", "secret")
	hh := http.Header{}
	require.NoError(t, hs.SignHeader(hh, body))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(h, body); err != nil {
			t.Fatal(err)
		}
		if _, err := hv.Verify(hh, body); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// TestWriteSignedMatchesHMAC: the signed content written as one block of
// "id.timestamp." and body and then the rest of the body hashes like
// crypto/hmac over the concatenation, for prefixes below, at and above one
// and two blocks and bodies shorter than the fill.
func TestWriteSignedMatchesHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k, err := newMACKey(key)
	require.NoError(t, err)
	body := []byte(strings.Repeat("body-bytes/", 40))
	st := getMAC()
	defer putMAC(st)
	for _, idLen := range []int{1, 20, 52, 53, 54, 60, 100, 115, 116, 117, 126, 200} {
		id := strings.Repeat("i", idLen)
		for _, n := range []int{0, 1, 5, 10, 11, 12, 63, 64, 65, 128, 200, len(body)} {
			k.begin(st)
			writeSigned(st, id, "1700000000", body[:n])
			got := k.finish(st)
			m := hmac.New(sha256.New, key)
			m.Write([]byte(id + ".1700000000." + string(body[:n])))
			require.Equal(t, m.Sum(nil), got, "id %d bytes, body %d bytes", idLen, n)
		}
	}
}

// TestWallClockFollowsTheClock: the real-clock reading is near time.Now,
// and a base older than a second is read again (a step of the system
// clock is followed within a second).
func TestWallClockFollowsTheClock(t *testing.T) {
	var w wallClock
	near := func() {
		t.Helper()
		d := time.Duration(time.Now().UnixNano() - w.unixNano())
		require.True(t, d > -time.Second && d < time.Second, "reading off by %v", d)
	}
	near()
	near()
	stale := time.Now().Add(-2 * time.Second)
	w.base.Store(&wallBase{mono: stale, wall: stale.UnixNano() - int64(time.Hour)})
	near()
	require.NotEqual(t, stale, w.base.Load().mono, "a base over a second old is replaced")
}

// TestTokenWithoutDot: a dot, space or tab at any position of ids of every
// length up to 40 is found, and bytes next to them in value are not.
func TestTokenWithoutDot(t *testing.T) {
	for n := 1; n <= 40; n++ {
		base := []byte(strings.Repeat("a", n))
		require.True(t, tokenWithoutDot(string(base)))
		for i := 0; i < n; i++ {
			for _, c := range []byte{'.', ' ', '\t'} {
				id := append([]byte(nil), base...)
				id[i] = c
				require.False(t, tokenWithoutDot(string(id)), "%q", id)
			}
			for _, c := range []byte{'-', '/', '!', '\n', 0, 0x80, 0xae, 0xff, '\x08', '\x0a'} {
				id := append([]byte(nil), base...)
				id[i] = c
				require.True(t, tokenWithoutDot(string(id)), "%q", id)
			}
		}
	}
}

// TestParseTimestamp: the parser agrees with a reference built on strconv
// for every byte at every position of timestamps of every length, and
// for boundary values.
func TestParseTimestamp(t *testing.T) {
	ref := func(ts string) (int64, bool) {
		if len(ts) == 0 || len(ts) > 18 || ts[0] == '0' && len(ts) > 1 {
			return 0, false
		}
		for i := 0; i < len(ts); i++ {
			if ts[i] < '0' || ts[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(ts, 10, 64)
		return n, err == nil
	}
	check := func(ts string) {
		t.Helper()
		wn, wok := ref(ts)
		n, ok := parseTimestamp(ts)
		require.Equal(t, wok, ok, "%q", ts)
		if ok {
			require.Equal(t, wn, n, "%q", ts)
		}
	}
	for _, ts := range []string{"", "0", "00", "7", "1700000000", "999999999999999999", "9999999999999999999", "12345678", "99999999", "10000000", "1234567", "0123456789"} {
		check(ts)
	}
	base := "123456789012345678"
	for n := 1; n <= 19; n++ {
		s := (base + "9")[:n]
		for i := 0; i < n; i++ {
			for c := 0; c < 256; c++ {
				b := []byte(s)
				b[i] = byte(c)
				check(string(b))
			}
		}
	}
}
