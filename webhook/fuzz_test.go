package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// FuzzStandardHeader: parsing arbitrary header values never panics, and a
// random signature header never verifies.
func FuzzStandardHeader(f *testing.F) {
	f.Add(kaID, kaTS, kaSig, []byte(kaBody))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_1", "0", "v1, v1,,, v2,abc", []byte("{}"))
	f.Add("msg.1", "99999999999999999999", "v1,"+kaSig, []byte("{}"))
	v, err := NewStandard([]string{kaSecret}, InsecureSkipSignatureTimestamp())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("svix-id", id)
		h.Set("svix-timestamp", ts)
		h.Set("svix-signature", sig)
		_, err := v.Verify(h, body)
		if err == nil && !(id == kaID && ts == kaTS && string(body) == kaBody) {
			t.Fatalf("forged delivery verified: id=%q ts=%q sig=%q", id, ts, sig)
		}
	})
}

// FuzzStandardTamper: a correctly signed delivery with one flipped byte in
// the body, id or timestamp never verifies.
func FuzzStandardTamper(f *testing.F) {
	f.Add(kaID, int64(1614265330), []byte(kaBody), uint16(0), uint8(1), uint8(0))
	f.Add("msg_x", int64(1), []byte{}, uint16(3), uint8(128), uint8(1))
	f.Add("m", int64(1700000000), []byte("hello"), uint16(7), uint8(3), uint8(2))
	signer, _ := NewStandardSigner(kaSecret)
	f.Fuzz(func(t *testing.T, id string, secs int64, body []byte, pos uint16, mask uint8, part uint8) {
		if secs <= 0 || mask == 0 || id == "" {
			return
		}
		now := time.Unix(secs, 0)
		v, err := NewStandard([]string{kaSecret}, WithSignatureClock(clock.NewFake(now)))
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(secs, 10)
		sig, err := signer.Sign(id, now, body)
		if err != nil {
			// The signer refuses exactly the ids the verifier refuses.
			if checkMessageID(id) == nil {
				t.Fatalf("signer refused a valid id %q: %v", id, err)
			}
			return
		}
		h := standardHeader(id, ts, sig)
		if _, err := v.Verify(h, body); err != nil {
			if _, ok := parseTimestamp(ts); ok && validID(id) {
				t.Fatalf("genuine delivery refused: %v", err)
			}
			return
		}
		switch part % 3 {
		case 0:
			if len(body) == 0 {
				return
			}
			b := append([]byte(nil), body...)
			b[int(pos)%len(b)] ^= mask
			body = b
		case 1:
			b := []byte(id)
			b[int(pos)%len(b)] ^= mask
			h.Set("svix-id", string(b))
		case 2:
			b := []byte(ts)
			b[int(pos)%len(b)] ^= mask
			h.Set("svix-timestamp", string(b))
		}
		if _, err := v.Verify(h, body); err == nil {
			t.Fatalf("tampered delivery verified (part %d)", part%3)
		}
	})
}

func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] == ' ' || id[i] == '.' || id[i] == '\t' || id[i] < 0x20 || id[i] == 0x7f {
			return false
		}
	}
	return true
}

// FuzzHMACHeader: the hex/prefixed parser never panics and random values
// never verify.
func FuzzHMACHeader(f *testing.F) {
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!"))
	f.Add("", []byte{})
	f.Add("sha256=", []byte("x"))
	v, _ := NewHMAC("X-Hub-Signature-256", "sha256=", "It's a Secret to Everybody")
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Hub-Signature-256", sig)
		_, err := v.Verify(h, body)
		if err == nil && string(body) != "Hello, World!" {
			t.Fatalf("forged HMAC verified: %q", sig)
		}
	})
}

// FuzzStandardSignatureListDifferential checks the constant-time
// compare-the-encoding path against the straightforward rule (classify
// every entry, strictly decode each v1 signature, compare bytes) on
// arbitrary signature lists, with and without the right signature in them.
func FuzzStandardSignatureListDifferential(f *testing.F) {
	f.Add("v1,AAAA", false, uint8(0))
	f.Add("v2,xyz v1a,abc", true, uint8(1))
	f.Add("junk  v1,"+strings.Repeat("A", 43)+"=", true, uint8(2))
	f.Add("v1,"+strings.Repeat("A", 43)+"B", false, uint8(0))
	v, err := NewStandard([]string{kaSecret}, InsecureSkipSignatureTimestamp())
	if err != nil {
		f.Fatal(err)
	}
	signer, _ := NewStandardSigner(kaSecret)
	body := []byte(`{"a":1}`)
	good, _ := signer.Sign("msg_1", time.Unix(1700000000, 0), body)
	strict := base64.StdEncoding.Strict()
	f.Fuzz(func(t *testing.T, list string, withGood bool, where uint8) {
		if withGood {
			entries := strings.Split(list, " ")
			i := int(where) % (len(entries) + 1)
			entries = append(entries[:i], append([]string{good}, entries[i:]...)...)
			list = strings.Join(entries, " ")
		}
		if list == "" {
			return
		}
		_, got := v.VerifyParts("msg_1", "1700000000", list, body)
		// The reference rule.
		var want error
		wellFormed, match := false, false
		for _, e := range strings.Split(list, " ") {
			ver := versionOf(e)
			if ver == "" {
				continue
			}
			if ver != "v1" {
				wellFormed = true
				continue
			}
			// encoding/base64 skips '\r' and '\n' even in strict mode; a
			// signature is exactly its 44 base64 characters.
			raw, err := strict.DecodeString(e[3:])
			if err != nil || len(raw) != 32 || strings.ContainsAny(e, "\r\n") {
				continue
			}
			wellFormed = true
			if "v1,"+base64.StdEncoding.EncodeToString(raw) == good {
				match = true
			}
		}
		switch {
		case match:
			want = nil
		case !wellFormed:
			want = ErrMalformed
		default:
			want = ErrNoMatchingSignature
		}
		if want == nil {
			if got != nil {
				t.Fatalf("%q: got %v, want a match", list, got)
			}
			return
		}
		if !errors.Is(got, want) {
			t.Fatalf("%q: got %v, want %v", list, got, want)
		}
	})
}
