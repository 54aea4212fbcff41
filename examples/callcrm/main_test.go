package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
)

// The secrets the test receiver is configured with.
var secrets = map[string]string{
	"siro":     "whsec_" + base64.StdEncoding.EncodeToString([]byte("callcrm-test-siro-signing-key")),
	"symbo":    "symbo-test-webhook-secret",
	"callsync": "callsync-test-webhook-secret",
	"sivo":     "sivo-test-hmac-secret",
}

// bin is the callcrm binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callcrm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "callcrm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// callcrm runs the binary with stdin and args, without CALLCRM_SECRET in
// its environment.
func callcrm(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running callcrm %v: %v", args, err)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLCRM_") {
			env = append(env, kv)
		}
	}
	return env
}

// counter counts callback runs by key.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.n[k]++
	}
}

// callback returns a vendor callback counting "<vendor>:<event type>" and
// "id:<delivery id>", both read from the event by key.
func callback[E any](c *counter, vendor string, key func(ev E) (typ, id string)) func(context.Context, E) error {
	return func(_ context.Context, ev E) error {
		typ, id := key(ev)
		c.add(vendor+":"+typ, "id:"+id)
		return nil
	}
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// receiver is an http.Server on loopback with the four vendors' real
// handlers mounted as examples/crm-backend mounts them.
type receiver struct {
	url   string
	calls *counter
	// ready records the Siro recordings Ready was called with.
	ready []*siro.RecordingEvent
	mu    sync.Mutex
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{calls: &counter{n: map[string]int{}}}
	c := r.calls
	sr := callback(c, "siro", func(e *siro.RecordingEvent) (string, string) { return string(e.Type), e.Delivery.ID })
	siroH, err := siro.NewHandler([]string{secrets["siro"]}, siro.Callbacks{
		Ready: func(_ context.Context, rr *siro.ReadyRecording) error {
			r.mu.Lock()
			r.ready = append(r.ready, rr.Event)
			r.mu.Unlock()
			c.add("siro:ready")
			return nil
		},
		RecordingProcessed: sr,
		RecordingLinked:    sr,
	})
	if err != nil {
		t.Fatal(err)
	}
	symboH, err := symbo.NewHandler([]string{secrets["symbo"]}, symbo.Callbacks{
		Call:            callback(c, "symbo", func(ev *symbo.CallEvent) (string, string) { return ev.Description, ev.ID }),
		ProspectCreated: callback(c, "symbo", func(ev *webhook.Event) (string, string) { return ev.Type, ev.ID }),
	})
	if err != nil {
		t.Fatal(err)
	}
	lookup, err := symbo.NewLookupHandler([]string{secrets["symbo"]}, func(_ context.Context, number string) (*symbo.Contact, error) {
		c.add("symbo:lookup")
		if number == "+18005551212" {
			return &symbo.Contact{ExternalID: "12345", FirstName: "Sally", LastName: "Sample"}, nil
		}
		return nil, symbo.ErrNoContact
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := callback(c, "callsync", func(ev *callsync.Event) (string, string) { return string(ev.Type), ev.PayloadID })
	callsyncH, err := callsync.NewHandler([]string{secrets["callsync"]}, callsync.Callbacks{
		CallLogged: cs, RecordingUpdated: cs, AIAnalysis: cs, CallerUpdated: cs,
	})
	if err != nil {
		t.Fatal(err)
	}
	sv := callback(c, "sivo", func(ev *sivo.Event) (string, string) { return string(ev.Type), ev.ID })
	sivoH, err := sivo.NewHandler([]string{secrets["sivo"]}, sivo.Callbacks{
		CallCreated: sv, CallAnswered: sv, CallTransferred: sv, CallRecorded: sv, TranscriptSegment: sv,
		TranscriptComplete: sv, QueueEntered: sv, QueueAbandoned: sv, AgentStatusChanged: sv, AgentPaused: sv,
		IVRCompleted: sv, AIAgentCompleted: sv, WebhookTest: sv,
		CallEnded: func(ctx context.Context, ev *sivo.Event, _ *sivo.CallEnded) error { return sv(ctx, ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	m := http.NewServeMux()
	m.Handle("POST /webhooks/siro", siroH)
	m.Handle("GET /symbo/lookup", lookup)
	m.Handle("POST /webhooks/symbo", symboH)
	m.Handle("POST /webhooks/callsync", callsyncH)
	m.Handle("POST /webhooks/sivo", sivoH)
	srv := httptest.NewServer(m) // an http.Server on 127.0.0.1:0
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) endpoint(vendor string) string { return r.url + "/webhooks/" + vendor }

// listed returns the (vendor, event) pairs of "trigger list".
func listed(t *testing.T) [][2]string {
	t.Helper()
	res := callcrm(t, "", "trigger", "list")
	if res.code != 0 {
		t.Fatalf("trigger list: %v", res)
	}
	var out [][2]string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("trigger list line %q", line)
		}
		out = append(out, [2]string{f[0], f[1]})
	}
	return out
}

func TestTriggerEveryListedEventIsAnswered2xx(t *testing.T) {
	r := newReceiver(t)
	events := listed(t)
	perVendor := map[string]int{}
	for _, ve := range events {
		perVendor[ve[0]]++
	}
	want := map[string]int{"siro": 2, "symbo": 6, "callsync": 4, "sivo": 14}
	for v, n := range want {
		if perVendor[v] != n {
			t.Errorf("trigger list has %d %s events, want %d", perVendor[v], v, n)
		}
	}
	for _, ve := range events {
		vendor, ev := ve[0], ve[1]
		res := callcrm(t, "", "trigger", vendor, ev, "-url", r.endpoint(vendor), "-secret", secrets[vendor])
		if res.code != 0 || !strings.Contains(res.stdout, "status: 200 OK") {
			t.Errorf("trigger %s %s: %v", vendor, ev, res)
			continue
		}
		if strings.Contains(res.stdout+res.stderr, secrets[vendor]) {
			t.Errorf("trigger %s %s printed the secret", vendor, ev)
		}
		// The callback for that event ran (Symbo routes by the name as sent;
		// its callbacks count the name as sent, prospect:created by type).
		if got := r.calls.get(vendor + ":" + ev); got != 1 {
			t.Errorf("trigger %s %s: the %s callback ran %d times, want 1", vendor, ev, ev, got)
		}
		for _, want := range []string{"time:", "body:"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("trigger %s %s: output lacks %q:\n%s", vendor, ev, want, res.stdout)
			}
		}
	}
	if got := r.calls.get("siro:ready"); got != 1 {
		t.Errorf("Siro's Ready ran %d times for the one documented recording, want 1", got)
	}
}

func TestTriggerSetOverridesFields(t *testing.T) {
	// A capture server shows exactly what was sent.
	var mu sync.Mutex
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"queued":true}`)
	}))
	defer srv.Close()
	res := callcrm(t, "", "trigger", "sivo", "call.ended", "-url", srv.URL, "-secret", "s3cret", "-id", "evt_fixed",
		"-set", "data.duration_sec=42", "-set", "data.hangupCause=USER_BUSY", "-set", `data.agentId="7"`,
		"-set", "data.extra.nested=true", "-set", "tenantId=null")
	if res.code != 0 || !strings.Contains(res.stdout, "status: 202 Accepted") || !strings.Contains(res.stdout, `{"queued":true}`) {
		t.Fatalf("%v", res)
	}
	mu.Lock()
	body := got
	mu.Unlock()
	want := `{"id":"evt_fixed","type":"call.ended","createdAt":"`
	if !bytes.HasPrefix(body, []byte(want)) {
		t.Errorf("body starts %.60s, want the documented key order starting %s", body, want)
	}
	var ev struct {
		TenantID *string `json:"tenantId"`
		Data     struct {
			DurationSec any    `json:"duration_sec"`
			HangupCause string `json:"hangupCause"`
			AgentID     any    `json:"agentId"`
			MOSScore    any    `json:"mosScore"`
			Extra       struct {
				Nested bool `json:"nested"`
			} `json:"extra"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Data.DurationSec != 42.0 || ev.Data.HangupCause != "USER_BUSY" || ev.Data.AgentID != "7" || !ev.Data.Extra.Nested ||
		ev.TenantID != nil || ev.Data.MOSScore != 4.3 {
		t.Errorf("overrides not applied as JSON values: %s", body)
	}
	for _, bad := range [][]string{{"-set", "nokey"}, {"-set", "data.duration_sec.x=1"}, {"-set", "=1"}} {
		res := callcrm(t, "", append([]string{"trigger", "sivo", "call.ended", "-url", srv.URL, "-secret", "s"}, bad...)...)
		if res.code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%v", bad, res.code, res)
		}
	}
}

func TestRepeatIsAcknowledgedWithoutRunningTheCallbackAgain(t *testing.T) {
	r := newReceiver(t)
	for vendor, ev := range map[string]string{"siro": string(siro.EventRecordingLinked), "symbo": string(symbo.EventCallCompleted),
		"callsync": string(callsync.EventCallLogged), "sivo": string(sivo.EventCallEnded)} {
		id := map[string]string{"siro": "msg_repeat1", "symbo": "0b6ae4bd-6e2c-4c1e-9d3c-repeat", "callsync": "wh_repeat", "sivo": "evt_repeat"}[vendor]
		res := callcrm(t, "", "trigger", vendor, ev, "-url", r.endpoint(vendor), "-secret", secrets[vendor], "-id", id, "-repeat", "2")
		if res.code != 0 {
			t.Errorf("%s: %v", vendor, res)
			continue
		}
		if n := strings.Count(res.stdout, "status: 200 OK"); n != 3 {
			t.Errorf("%s: %d answers 200 of 3 sends:\n%s", vendor, n, res.stdout)
		}
		if n := strings.Count(res.stdout, "id="+id); n != 3 {
			t.Errorf("%s: %d sends with id %s, want 3 (same id on every resend):\n%s", vendor, n, id, res.stdout)
		}
		key := "id:" + id
		if vendor == "callsync" {
			key = "id:" + id // CallSync dedupes on payload_id plus the body's hash; the resend is byte-identical
		}
		if got := r.calls.get(key); got != 1 {
			t.Errorf("%s: the callback ran %d times for 3 sends of one message, want 1", vendor, got)
		}
	}
}

func TestOutOfOrder(t *testing.T) {
	r := newReceiver(t)
	res := callcrm(t, "", "trigger", "siro", string(siro.EventRecordingLinked), "-out-of-order", "-url", r.endpoint("siro"),
		"-secret", secrets["siro"], "-set", "recordingId=rec-out-of-order")
	if res.code != 0 {
		t.Fatalf("%v", res)
	}
	// Linked (both flags true) arrives first, then Processed, which was
	// emitted before Siro linked the recording.
	if i, j := strings.Index(res.stdout, "siro integrations.recordingLinked"), strings.Index(res.stdout, "siro integrations.recordingProcessed"); i < 0 || j < i {
		t.Errorf("not sent in reverse order:\n%s", res.stdout)
	}
	if got := r.calls.get("siro:ready"); got != 1 {
		t.Errorf("Ready ran %d times, want 1", got)
	}
	r.mu.Lock()
	if len(r.ready) == 1 && (r.ready[0].RecordingID != "rec-out-of-order" || r.ready[0].Type != siro.EventRecordingLinked) {
		t.Errorf("Ready saw %+v", r.ready[0])
	}
	r.mu.Unlock()

	res = callcrm(t, "", "trigger", "sivo", "call.ended", "-out-of-order", "-id", "evt_seq", "-url", r.endpoint("sivo"), "-secret", secrets["sivo"])
	if res.code != 0 {
		t.Fatalf("%v", res)
	}
	ended, answered, created := strings.Index(res.stdout, "call.ended id=evt_seq-3"), strings.Index(res.stdout, "call.answered id=evt_seq-2"), strings.Index(res.stdout, "call.created id=evt_seq-1")
	if ended < 0 || answered < ended || created < answered {
		t.Errorf("SIVO's call events not sent newest first:\n%s", res.stdout)
	}
	for _, k := range []string{"sivo:call.created", "sivo:call.answered", "sivo:call.ended"} {
		if r.calls.get(k) != 1 {
			t.Errorf("%s ran %d times, want 1", k, r.calls.get(k))
		}
	}
	if res := callcrm(t, "", "trigger", "symbo", "prospect:created", "-out-of-order", "-url", r.endpoint("symbo"), "-secret", "x"); res.code != 2 {
		t.Errorf("-out-of-order for an event without related ones: %v", res)
	}
}

func TestWrongSecretIs401(t *testing.T) {
	r := newReceiver(t)
	wrong := map[string]string{"siro": "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key")), "symbo": "nope",
		"callsync": "nope", "sivo": "nope"}
	for vendor, ev := range map[string]string{"siro": string(siro.EventRecordingProcessed), "symbo": string(symbo.EventCallUpdated),
		"callsync": string(callsync.EventAIAnalysis), "sivo": string(sivo.EventCallCreated)} {
		res := callcrm(t, "", "trigger", vendor, ev, "-url", r.endpoint(vendor), "-secret", wrong[vendor])
		if res.code != 1 || !strings.Contains(res.stdout, "status: 401 Unauthorized") {
			t.Errorf("%s with a wrong secret: %v", vendor, res)
		}
		if r.calls.get(vendor+":"+ev) != 0 {
			t.Errorf("%s: a delivery with a wrong secret reached the callback", vendor)
		}
	}
}

// capture records raw requests as received, like a request bin.
type capture struct {
	mu   sync.Mutex
	reqs [][]byte
	srv  *httptest.Server
}

func newCapture(t *testing.T) *capture {
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := httputil.DumpRequest(r, true)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, b)
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.reqs[len(c.reqs)-1])
}

// capture triggers an event at a request bin and returns the raw request.
func captured(t *testing.T, c *capture, vendor, ev string) string {
	t.Helper()
	res := callcrm(t, "", "trigger", vendor, ev, "-url", c.srv.URL, "-secret", secrets[vendor])
	if res.code != 0 {
		t.Fatalf("%v", res)
	}
	return c.last()
}

// withBody replaces a raw request's body and fixes its Content-Length.
func withBody(raw, body string) string {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	head = regexp.MustCompile(`(?m)^Content-Length: \d+`).ReplaceAllString(head, "Content-Length: "+strconv.Itoa(len(body)))
	return head + "\r\n\r\n" + body
}

func withoutHeader(raw, name string) string {
	return regexp.MustCompile(`(?mi)^`+regexp.QuoteMeta(name)+`: [^\r\n]*\r\n`).ReplaceAllString(raw, "")
}

func TestVerifyNamesTheCause(t *testing.T) {
	c := newCapture(t)
	symboReq := captured(t, c, "symbo", string(symbo.EventCallCompleted))
	sivoReq := captured(t, c, "sivo", string(sivo.EventCallEnded))
	_, symboBody, _ := strings.Cut(symboReq, "\r\n\r\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(symboBody), "", "  "); err != nil {
		t.Fatal(err)
	}

	// A Siro delivery signed an hour ago, as a replay would be.
	siroBody := `{"recordingId":"rec-1","recordingProcessed":true,"recordingLinked":true,"eventType":"integrations.recordingLinked"}`
	signer, err := webhook.NewStandardSigner(secrets["siro"])
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	sig, err := signer.Sign("msg_old", old, []byte(siroBody))
	if err != nil {
		t.Fatal(err)
	}
	staleSiro := fmt.Sprintf("POST /webhooks/siro HTTP/1.1\r\nHost: crm.example\r\nContent-Type: application/json\r\nsvix-id: msg_old\r\nsvix-timestamp: %d\r\nsvix-signature: %s\r\nContent-Length: %d\r\n\r\n%s",
		old.Unix(), sig, len(siroBody), siroBody)

	siroReq := captured(t, c, "siro", string(siro.EventRecordingProcessed))
	_, siroCaptured, _ := strings.Cut(siroReq, "\r\n\r\n")

	cases := []struct {
		name, vendor, secret, stdin string
		args                        []string
		code                        int
		want                        string
	}{
		{"verifies", "symbo", secrets["symbo"], symboReq, nil, 0, "VERIFIED: Symbo signature matches"},
		{"verifies sivo", "sivo", secrets["sivo"], sivoReq, nil, 0, "VERIFIED: SIVO signature matches"},
		{"no signature header", "symbo", secrets["symbo"], withoutHeader(symboReq, "X-Hmac-Signature"), nil, 1, "NOT VERIFIED: no signature header"},
		{"another vendor's request", "callsync", secrets["callsync"], symboReq, nil, 1, "X-Hmac-Signature (Symbo's)"},
		{"wrong scheme: sha256= prefix missing", "sivo", secrets["sivo"], strings.Replace(sivoReq, "X-Sivo-Signature: sha256=", "X-Sivo-Signature: ", 1), nil, 1, "NOT VERIFIED: wrong scheme"},
		{"wrong scheme hint", "sivo", secrets["sivo"], strings.Replace(sivoReq, "X-Sivo-Signature: sha256=", "X-Sivo-Signature: ", 1), nil, 1, "sha256= prefix is missing"},
		{"body changed: trailing newline", "symbo", secrets["symbo"], withBody(symboReq, symboBody+"\n"), nil, 1, "NOT VERIFIED: body changed: the signature matches the body with its trailing newline removed"},
		{"body changed: re-indented", "symbo", secrets["symbo"], withBody(symboReq, pretty.String()), nil, 1, "NOT VERIFIED: body changed: the signature matches the body re-encoded as compact JSON"},
		{"body changed: CRLF", "symbo", secrets["symbo"], withBody(symboReq, strings.ReplaceAll(pretty.String(), "\n", "\r\n")), nil, 1, "NOT VERIFIED: body changed"},
		{"wrong secret", "symbo", "another-secret", symboReq, nil, 1, "NOT VERIFIED: wrong secret"},
		{"wrong secret: white space", "symbo", secrets["symbo"] + " ", symboReq, nil, 1, "NOT VERIFIED: wrong secret: the signature matches the given secret with its surrounding white space removed"},
		{"timestamp outside the tolerance", "siro", secrets["siro"], staleSiro, nil, 1, "NOT VERIFIED: timestamp outside the tolerance"},
		{"timestamp: signature otherwise fine", "siro", secrets["siro"], staleSiro, nil, 1, "the signature itself matches"},
		{"siro verifies", "siro", secrets["siro"], siroReq, nil, 0, "VERIFIED: Siro signature matches"},
		{"siro: no signature header", "siro", secrets["siro"], withoutHeader(siroReq, "Svix-Signature"), nil, 1, "NOT VERIFIED: no signature header"},
		{"siro: wrong scheme", "siro", secrets["siro"], regexp.MustCompile(`(?m)^Svix-Signature: v1,`).ReplaceAllString(siroReq, "Svix-Signature: sha256="), nil, 1, "NOT VERIFIED: wrong scheme"},
		{"siro: body changed", "siro", secrets["siro"], withBody(siroReq, siroCaptured+"\r\n"), nil, 1, "NOT VERIFIED: body changed: the signature matches the body with its trailing CRLF removed"},
		{"siro: wrong secret", "siro", "whsec_" + base64.StdEncoding.EncodeToString([]byte("other")), siroReq, nil, 1, "NOT VERIFIED: wrong secret"},
		{"tolerance flag", "siro", secrets["siro"], staleSiro, []string{"-tolerance", "2h"}, 0, fmt.Sprintf("VERIFIED: Siro signature matches (%d-byte body, id msg_old", len(siroBody))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := callcrm(t, tc.stdin, append([]string{"verify", tc.vendor, "-secret", tc.secret}, tc.args...)...)
			if res.code != tc.code || !strings.Contains(res.stdout, tc.want) {
				t.Errorf("want exit %d and %q; got %v", tc.code, tc.want, res)
			}
			if strings.TrimSpace(tc.secret) != "" && strings.Contains(res.stdout+res.stderr, strings.TrimSpace(tc.secret)) {
				t.Errorf("the output contains the secret")
			}
		})
	}

	// Headers and a body file instead of a raw request.
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(symboBody), 0o600); err != nil {
		t.Fatal(err)
	}
	sigLine := regexp.MustCompile(`(?m)^X-Hmac-Signature: ([0-9a-f]+)`).FindStringSubmatch(symboReq)
	if sigLine == nil {
		t.Fatalf("no signature in\n%s", symboReq)
	}
	res := callcrm(t, "", "verify", "symbo", "-secret", secrets["symbo"], "-header", "X-Hmac-Signature: "+sigLine[1], "-body", bodyFile)
	if res.code != 0 || !strings.Contains(res.stdout, "VERIFIED") {
		t.Errorf("-header/-body: %v", res)
	}
	if res := callcrm(t, "not http", "verify", "symbo", "-secret", "x"); res.code != 2 {
		t.Errorf("garbage on stdin: %v", res)
	}
}

func TestSignPrintsCurlHeaders(t *testing.T) {
	body := `{"id":"evt_1","type":"call.ended","createdAt":"2026-05-20T10:23:45.123Z","data":{}}`
	res := callcrm(t, body, "sign", "sivo", "-secret", secrets["sivo"])
	if res.code != 0 {
		t.Fatalf("%v", res)
	}
	for _, want := range []string{"-H 'X-Sivo-Signature: sha256=", "-H 'X-Sivo-Event-Id: evt_1'", "-H 'X-Sivo-Event-Type: call.ended'", "-H 'Content-Type: application/json'"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("sign output lacks %q:\n%s", want, res.stdout)
		}
	}
	// The printed headers verify.
	var hdr []string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		hdr = append(hdr, "-header", strings.TrimSuffix(strings.TrimPrefix(line, "-H '"), "'"))
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "b")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := callcrm(t, "", append([]string{"verify", "sivo", "-secret", secrets["sivo"], "-body", f}, hdr...)...); res.code != 0 {
		t.Errorf("sign's headers do not verify: %v", res)
	}
	res = callcrm(t, body, "sign", "siro", "-secret", secrets["siro"], "-id", "msg_given")
	if res.code != 0 || !strings.Contains(res.stdout, "-H 'Svix-Id: msg_given'") || !strings.Contains(res.stdout, "-H 'Svix-Signature: v1,") {
		t.Errorf("%v", res)
	}
}

func TestLookup(t *testing.T) {
	r := newReceiver(t)
	res := callcrm(t, "", "lookup", "-url", r.url+"/symbo/lookup", "-secret", secrets["symbo"], "+18005551212")
	if res.code != 0 || !strings.Contains(res.stdout, "status: 200 OK") || !strings.Contains(res.stdout, `"external_id":"12345"`) {
		t.Errorf("match: %v", res)
	}
	res = callcrm(t, "", "lookup", "-url", r.url+"/symbo/lookup", "-secret", secrets["symbo"], "+15550000000")
	if res.code != 1 || !strings.Contains(res.stdout, "status: 404 Not Found") {
		t.Errorf("no match: %v", res)
	}
	res = callcrm(t, "", "lookup", "-url", r.url+"/symbo/lookup", "-secret", "wrong", "+18005551212")
	if res.code != 1 || !strings.Contains(res.stdout, "status: 401 Unauthorized") {
		t.Errorf("wrong secret: %v", res)
	}
	if got := r.calls.get("symbo:lookup"); got != 2 {
		t.Errorf("the lookup function ran %d times, want 2 (not for the wrong secret)", got)
	}
}

func TestUsageHelpAndExitCodes(t *testing.T) {
	for _, verb := range []string{"trigger", "lookup", "verify", "sign", "fake"} {
		res := callcrm(t, "", verb, "-h")
		if res.code != 0 || !strings.Contains(res.stderr, "Usage: callcrm "+verb) || !strings.Contains(res.stderr, "Exit codes") {
			t.Errorf("%s -h: %v", verb, res)
		}
	}
	if res := callcrm(t, "", "-h"); res.code != 0 || !strings.Contains(res.stdout, "Exit codes") {
		t.Errorf("-h: %v", res)
	}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"trigger", "siro"},
		{"trigger", "acme", "x", "-url", "http://127.0.0.1:1", "-secret", "s"},
		{"trigger", "siro", "call.ended", "-url", "http://127.0.0.1:1", "-secret", "s"},
		{"trigger", "symbo", "call:created", "-secret", "s"},
		{"trigger", "symbo", "call:created", "-url", "ftp://x", "-secret", "s"},
		{"trigger", "symbo", "call:created", "-url", "http://127.0.0.1:1"},
		{"trigger", "siro", string(siro.EventRecordingLinked), "-url", "http://127.0.0.1:1", "-secret", "not-whsec!"},
		{"trigger", "symbo", "call:created", "-url", "http://127.0.0.1:1", "-secret", "s", "-nope"},
		{"fake", "stripe"},
	} {
		res := callcrm(t, "", args...)
		if res.code != 2 {
			t.Errorf("%q: exit %d, want 2\n%v", args, res.code, res)
		}
		if strings.Contains(res.stdout+res.stderr, "not-whsec!") {
			t.Errorf("%q: the secret is in the output:\n%v", args, res)
		}
	}
	// A network error is 3.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	if res := callcrm(t, "", "trigger", "symbo", "call:created", "-url", closed, "-secret", "s"); res.code != 3 {
		t.Errorf("connection refused: %v", res)
	}
	// CALLCRM_SECRET stands in for -secret.
	r := newReceiver(t)
	cmd := exec.Command(bin, "trigger", "callsync", "call_logged", "-url", r.endpoint("callsync"))
	cmd.Env = append(environ(), "CALLCRM_SECRET="+secrets["callsync"])
	if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("status: 200 OK")) {
		t.Errorf("CALLCRM_SECRET: %v\n%s", err, out)
	}
}

// fakeProcess is a running "callcrm fake ...".
type fakeProcess struct {
	cmd  *exec.Cmd
	vars map[string]string
	rest *bufio.Scanner
}

// startFake runs "callcrm fake args..." and waits for its "ready" line
// (no sleeps: the printed lines say when it serves).
func startFake(t *testing.T, args ...string) *fakeProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"fake"}, args...)...)
	cmd.Env = environ()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &fakeProcess{cmd: cmd, vars: map[string]string{}, rest: bufio.NewScanner(out)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	for p.rest.Scan() {
		line := p.rest.Text()
		if line == "ready" {
			return p
		}
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			p.vars[k] = v
		}
	}
	t.Fatalf("callcrm fake %v ended before ready: %v", args, p.rest.Err())
	return nil
}

// stop sends SIGINT and checks a clean exit.
func (p *fakeProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var tail []string
	for p.rest.Scan() {
		tail = append(tail, p.rest.Text())
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("fake after SIGINT: %v", err)
	}
	if strings.Join(tail, "\n") != "stopping" {
		t.Errorf("fake printed %q after SIGINT", tail)
	}
}

var (
	hostPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	stamp    = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	nanos    = regexp.MustCompile(`\d{13,}`)
)

// siroTranscript drives a siro client through a fixed sequence of calls
// and returns what each answered, with times, host ports and
// nanosecond-derived secrets normalised, so two fakes can be compared.
func siroTranscript(t *testing.T, orgURL, userURL, orgToken string) []string {
	t.Helper()
	ctx := context.Background()
	base := []siro.Option{siro.WithOrgBaseURL(orgURL), siro.WithUserBaseURL(userURL), siro.WithLimiter(siro.Unlimited{}),
		siro.WithUserLimiter(siro.Unlimited{}), siro.WithRetry(siro.RetryPolicy{})}
	c, err := siro.NewClient(append(base, siro.WithOrgToken(orgToken))...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	note := func(name string, v any, err error) {
		s := ""
		if err != nil {
			s = "error: " + err.Error()
		} else {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		s = nanos.ReplaceAllString(stamp.ReplaceAllString(hostPort.ReplaceAllString(s, "HOST"), "TIME"), "N")
		out = append(out, name+" -> "+s)
	}
	ci, err := c.CallerIdentity(ctx)
	note("CallerIdentity", ci, err)
	e, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit",
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}, Account: &siro.SyncAccount{ExternalID: "acct-1", Name: "Smith"}})
	note("SyncEngagement", e, err)
	es, err := c.SyncEngagements(ctx, []siro.SyncEngagement{{ExternalID: "appt-2"}, {ExternalID: "appt-3"}})
	note("SyncEngagements", es, err)
	if e != nil {
		got, err := c.GetEngagement(ctx, e.ID)
		note("GetEngagement", got, err)
	}
	_, err = c.GetEngagement(ctx, "missing")
	note("GetEngagement missing", nil, err)
	list, err := c.ListEngagements(ctx, nil)
	note("ListEngagements", list, err)
	opp, err := c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "opp-2", Name: "Deal"})
	note("SyncOpportunity", opp, err)
	accts, err := c.ListAccounts(ctx)
	note("ListAccounts", accts, err)
	app, err := c.CreateOAuthApp(ctx, &siro.CreateOAuthAppParams{AppName: "crm", Owner: "siro-user-1", OrganizationID: "org_sirotest"})
	note("CreateOAuthApp", app, err)
	if app != nil {
		uc, err := siro.NewClient(append(base, siro.WithOrgToken(orgToken), siro.WithOAuthApp(app.ClientID, app.ClientSecret, "siro-user-1", siro.ScopeWrite))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = uc.GetRecordingDetails(ctx, "missing", nil)
		note("GetRecordingDetails missing", nil, err)
		_, err = uc.GetEntityExtractions(ctx, "missing")
		note("GetEntityExtractions missing", nil, err)
	}
	bad, err := siro.NewClient(append(base, siro.WithOrgToken("wrong-token"))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListEngagements(ctx, nil)
	note("wrong org token", nil, err)
	return out
}

func TestFakeSiroAnswersLikeTheInProcessFake(t *testing.T) {
	p := startFake(t, "siro", "-addr", "127.0.0.1:0")
	for _, k := range []string{"SIRO_ORG_BASE_URL", "SIRO_USER_BASE_URL", "SIRO_ORG_TOKEN", "SIRO_WEBHOOK_SECRET"} {
		if p.vars[k] == "" {
			t.Fatalf("fake siro did not print %s: %v", k, p.vars)
		}
	}
	standalone := siroTranscript(t, p.vars["SIRO_ORG_BASE_URL"], p.vars["SIRO_USER_BASE_URL"], p.vars["SIRO_ORG_TOKEN"])

	inProcess := sirotest.New()
	defer inProcess.Close()
	want := siroTranscript(t, inProcess.OrgURL(), inProcess.UserURL(), inProcess.OrgToken)
	if p.vars["SIRO_WEBHOOK_SECRET"] != inProcess.WebhookSecret {
		t.Errorf("printed webhook secret differs from sirotest's")
	}
	if len(standalone) != len(want) {
		t.Fatalf("standalone: %d answers, in-process: %d", len(standalone), len(want))
	}
	for i := range want {
		if standalone[i] != want[i] {
			t.Errorf("answer %d differs:\nstandalone: %s\nin-process: %s", i, standalone[i], want[i])
		}
	}
	if !strings.Contains(strings.Join(want, "\n"), "GetEngagement missing -> error:") {
		t.Errorf("the transcript checks no error answer:\n%s", strings.Join(want, "\n"))
	}
	p.stop(t)
}

func TestFakeEngramiAnswersLikeTheInProcessFake(t *testing.T) {
	p := startFake(t, "engrami")
	run := func(base, token string) []string {
		c, err := engrami.NewClient(engrami.WithToken(token), engrami.WithBaseURL(base))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		var out []string
		err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "CRM_API_KEY", Value: "sk_test"})
		out = append(out, fmt.Sprint("CreateSecret: ", err))
		err = c.CreateSecret(ctx, &engrami.SecretParams{Name: "", Value: "sk_test"})
		out = append(out, hostPort.ReplaceAllString(fmt.Sprint("CreateSecret without a name: ", err), "HOST"))
		bad, _ := engrami.NewClient(engrami.WithToken("wrong"), engrami.WithBaseURL(base))
		err = bad.CreateSecret(ctx, &engrami.SecretParams{Name: "X", Value: "y"})
		out = append(out, hostPort.ReplaceAllString(fmt.Sprint("wrong token: ", err), "HOST"))
		return out
	}
	if p.vars["ENGRAMI_BASE_URL"] == "" || p.vars["ENGRAMI_TOKEN"] == "" {
		t.Fatalf("fake engrami printed %v", p.vars)
	}
	got := run(p.vars["ENGRAMI_BASE_URL"], p.vars["ENGRAMI_TOKEN"])
	in := engramitest.New()
	defer in.Close()
	want := run(in.BaseURL(), in.Token)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("standalone:\n%s\nin-process:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(want[2], "401") && !strings.Contains(strings.ToLower(want[2]), "unauthorized") {
		t.Errorf("the wrong token was not refused: %s", want[2])
	}
	p.stop(t)
}
