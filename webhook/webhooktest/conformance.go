package webhooktest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// Behaviour is the callback Conformance plugs into the receiver under
// test, so the suite decides what it does (succeed, fail, panic, block,
// ignore its context) and counts its runs.
type Behaviour struct {
	// Event must be called by the receiver's callback for the events
	// Subject.Body builds, with the id Body was given (the vendor event's
	// own id field, as the typed callback sees it), and its error
	// returned.
	Event func(ctx context.Context, id string) error
	// Unknown must be the receiver's Unknown callback (or be called by
	// it with the same arguments).
	Unknown webhook.HandlerFunc
}

// Subject describes a receiver to Conformance: how to build it, how its
// vendor signs, and how to build deliveries. A vendor package (or a user
// with their own receiver) expresses it in about thirty lines; see the
// package example. Every vendor's test package returns its own from its
// Subject (siro/sirotest, symbo/symbotest, callsync/callsynctest,
// sivo/sivotest), to check a receiver that wraps the vendor's.
type Subject struct {
	// New builds the receiver under test with opts appended to the
	// user's own (the suite passes webhook.WithClock, WithDedupe,
	// WithLogger, WithTimeout and, per check, WithMaxBodyBytes,
	// WithReadTimeout, WithTolerance and WithName). It wires b.Event into
	// the callback of the event type Body builds and b.Unknown into the
	// Unknown callback.
	New func(b Behaviour, opts ...webhook.Option) (http.Handler, error)
	// Sign returns every header the vendor sends with body, signed with
	// Secret; a timestamp it signs is read from Clock.
	Sign func(body []byte) http.Header
	// Body returns a delivery of a known event type whose delivery key
	// derives from id: the same bytes signed again are a redelivery (same
	// key), distinct ids give distinct keys. Its JSON may be
	// padded with trailing spaces by the suite (size checks). A timestamp
	// in it is read from Clock.
	Body func(id string) []byte
	// Unknown returns a delivery of an event type the receiver does not
	// know, keyed by id like Body. Nil skips the unknown-event checks.
	Unknown func(id string) []byte
	// Middleware, if set, returns the vendor's Middleware with opts (the
	// suite's, like New's); the suite then checks the wrapped-handler
	// contract too (2xx commits, 1xx then 500 or a panic releases).
	Middleware func(opts ...webhook.Option) (func(http.Handler) http.Handler, error)
	// Clock is the clock Sign and Body read. The suite passes it to New
	// (webhook.WithClock) and to the stores, and advances it. Nil: the
	// suite uses a clock of its own and Timestamped must be false.
	Clock *FakeClock
	// Timestamped says deliveries carry a time (a signed timestamp, or
	// one in the body checked under webhook.WithTolerance): the suite
	// checks that a stale delivery is refused.
	Timestamped bool
	// Tolerance is the webhook.WithTolerance the Stale check sets (0: 5
	// minutes); a vendor whose body timestamp must outlast its retries
	// (Spec.RetryHorizon) needs one at least that long.
	Tolerance time.Duration
	// Untimed says New's callback answers the request itself (a receiver
	// built on a Middleware), so webhook.WithTimeout does not apply and
	// the deadline check is skipped.
	Untimed bool
	// Secret is the signing secret; the suite checks that no log line
	// ever contains it.
	Secret string
	// MaxBodyBytes is the receiver's default body limit (0:
	// webhook.DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Stores returns the dedupe stores of two replicas of the receiver
	// (the same store twice for an in-process store), using clk and
	// lease. Nil: one webhook.MemoryDedupe for both. Called once per
	// check. SlowCallback and Middleware pass them to the receiver
	// wrapped, to see its commits land (the wrapper keeps
	// webhook.Fingerprinter).
	Stores func(t testing.TB, clk webhook.Clock, lease time.Duration) (a, b webhook.Deduper)
}

// Values the suite runs under (fake time except ReadTimeout).
const (
	// ConformanceTimeout is the callback deadline the suite sets.
	ConformanceTimeout = 2 * time.Second
	// ConformanceLease is the store lease the suite asks Stores for.
	ConformanceLease = time.Minute
	conformanceRead  = 150 * time.Millisecond
	slowDeadline     = 300 * time.Millisecond // SlowCallback's WithTimeout (real time)
	realWait         = 10 * time.Second
)

// Conformance checks a receiver against the whole receive contract of
// package webhook, each check a subtest:
//
//   - MethodNotAllowed: GET is answered 405 with Allow: POST.
//   - BadSignature: a tampered body, another body's signature and no
//     signature at all are answered 401 and never reach the callback.
//   - Stale (Timestamped): a delivery an hour older than
//     WithTolerance(Subject.Tolerance, default 5m) is 401; a fresh one is
//     processed.
//   - BodyLimit: a body exactly at the limit is processed, one byte over
//     is 413, with a Content-Length and chunked, at a WithMaxBodyBytes
//     limit and at the receiver's default limit.
//   - ContentLengthLie: a request claiming the whole limit and sending a
//     few bytes does not allocate the claim and is answered (400 when
//     the client hangs up).
//   - Encoding: a gzip body is decoded, verified and processed; gzip that
//     decodes past the limit is 413; any other Content-Encoding is 415.
//   - SlowBody: a body slower than WithReadTimeout is answered 408 (real
//     loopback server, 150 ms).
//   - ErrorThenRetry, PanicThenRetry: a failing or panicking callback is
//     answered 500 over a live connection (never dropped), its key
//     released, and the retry (on the other replica) processed once.
//   - ConcurrentDuplicates: eight concurrent copies across two replicas
//     run the callback exactly once; the others are answered 409.
//   - SlowCallback: a callback ignoring its context is answered 504 at
//     the deadline (unless Untimed; a real 300 ms WithTimeout, since
//     deadlines are real timers); while it keeps running, past three
//     store leases, retries get 409 and never a second run; once it
//     returns nil its reservation is committed in the store (the check
//     waits for that commit, not for an answer), and the next retry is a
//     duplicate (200).
//   - SharedStore: one store behind two receivers of the vendor
//     (WithName) and behind another provider, with colliding ids: every
//     one is processed, and each stays deduplicated.
//   - Unknown: an unknown event type is acknowledged 2xx and reaches
//     Unknown with the exact raw bytes, once.
//   - Logs: refusals and failures log one line with provider,
//     delivery_id, event, status and error; no log line of any check
//     holds the secret or a body.
//   - Middleware (when set): 2xx from the wrapped handler commits; 1xx
//     then 500 or a panic does not; a wrapped handler outliving the
//     lease keeps its key, and its 2xx commits it.
//
// Every check also asserts that no two runs of one delivery ever
// overlap. Checks run one after another on Subject.Clock.
func Conformance(t *testing.T, s Subject) {
	t.Helper()
	if s.New == nil || s.Sign == nil || s.Body == nil {
		t.Fatal("webhooktest.Conformance: Subject needs New, Sign and Body")
	}
	if s.Clock == nil {
		if s.Timestamped {
			t.Fatal("webhooktest.Conformance: a Timestamped Subject needs the Clock its Sign and Body read")
		}
		s.Clock = NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = webhook.DefaultMaxBodyBytes
	}
	checks := []struct {
		name string
		run  func(t *testing.T, s Subject)
		skip string
	}{
		{"MethodNotAllowed", checkMethod, ""},
		{"BadSignature", checkBadSignature, ""},
		{"Stale", checkStale, when(!s.Timestamped, "deliveries carry no timestamp")},
		{"BodyLimit", checkBodyLimit, ""},
		{"ContentLengthLie", checkContentLengthLie, ""},
		{"Encoding", checkEncoding, ""},
		{"SlowBody", checkSlowBody, ""},
		{"ErrorThenRetry", checkErrorThenRetry, ""},
		{"PanicThenRetry", checkPanicThenRetry, ""},
		{"ConcurrentDuplicates", checkConcurrentDuplicates, ""},
		{"SlowCallback", checkSlowCallback, ""},
		{"SharedStore", checkSharedStore, ""},
		{"Unknown", checkUnknown, when(s.Unknown == nil, "Subject.Unknown is nil")},
		{"Logs", checkLogs, ""},
		{"Middleware", checkMiddleware, when(s.Middleware == nil, "Subject.Middleware is nil")},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			c.run(t, s)
		})
	}
}

func when(cond bool, why string) string {
	if cond {
		return why
	}
	return ""
}

// probe is the Behaviour's state: runs per id, overlap, scripted actions.
type probe struct {
	mu         sync.Mutex
	runs       map[string]int
	running    map[string]int
	overlapped []string
	entered    chan string
	act        func(ctx context.Context, id string, run int) error
	unknown    []*webhook.Event
	unknownErr error
}

func newProbe() *probe {
	return &probe{runs: map[string]int{}, running: map[string]int{}, entered: make(chan string, 64)}
}

func (p *probe) behaviour() Behaviour {
	return Behaviour{Event: p.event, Unknown: p.onUnknown}
}

func (p *probe) event(ctx context.Context, id string) error {
	p.mu.Lock()
	p.runs[id]++
	run := p.runs[id]
	p.running[id]++
	if p.running[id] > 1 {
		p.overlapped = append(p.overlapped, id)
	}
	act := p.act
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running[id]--
		p.mu.Unlock()
	}()
	select {
	case p.entered <- id:
	default:
	}
	if act != nil {
		return act(ctx, id, run)
	}
	return nil
}

func (p *probe) onUnknown(_ context.Context, ev *webhook.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp := *ev
	cp.Raw = bytes.Clone(ev.Raw)
	p.unknown = append(p.unknown, &cp)
	return p.unknownErr
}

func (p *probe) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[id]
}

func (p *probe) setAct(f func(ctx context.Context, id string, run int) error) {
	p.mu.Lock()
	p.act = f
	p.mu.Unlock()
}

// logLines parses the JSON log lines collected in l.
func logLines(t *testing.T, l *LogBuffer) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// env is one check's world: two replicas of the receiver on loopback
// servers sharing the Subject's stores, one probe, one log.
type env struct {
	t      *testing.T
	s      Subject
	clk    *FakeClock
	p      *probe
	logs   *LogBuffer
	logger *slog.Logger
	stores [2]webhook.Deduper
	log    *storeLog // set by newWatchedEnv: what the receivers did with stores
	h      [2]http.Handler
	srv    [2]*httptest.Server
	chunks [2]*sawChunked
	bodies [][]byte
}

// sawChunked records whether requests arrived with chunked encoding, so
// the chunked checks prove the path they claim.
type sawChunked struct {
	next http.Handler
	mu   sync.Mutex
	last []string
}

func (c *sawChunked) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.last = r.TransferEncoding
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func newEnv(t *testing.T, s Subject, opts ...webhook.Option) *env {
	t.Helper()
	return newEnvWith(t, s, nil, opts...)
}

// newWatchedEnv is newEnv with the stores logged (env.committed).
func newWatchedEnv(t *testing.T, s Subject, opts ...webhook.Option) *env {
	t.Helper()
	return newEnvWith(t, s, newStoreLog(), opts...)
}

func newEnvWith(t *testing.T, s Subject, log *storeLog, opts ...webhook.Option) *env {
	t.Helper()
	e := &env{t: t, s: s, clk: s.Clock, p: newProbe(), logs: &LogBuffer{}, log: log}
	e.logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if s.Stores != nil {
		e.stores[0], e.stores[1] = s.Stores(t, e.clk, ConformanceLease)
	} else {
		m, err := webhook.NewMemoryDedupe(24*time.Hour, webhook.WithLease(ConformanceLease), webhook.WithDedupeClock(e.clk))
		if err != nil {
			t.Fatal(err)
		}
		e.stores[0], e.stores[1] = m, m
	}
	if log != nil {
		e.stores[0], e.stores[1] = log.wrap(e.stores[0]), log.wrap(e.stores[1])
	}
	for i := range 2 {
		e.h[i] = e.build(t, e.stores[i], opts...)
		e.chunks[i] = &sawChunked{next: e.h[i]}
		e.srv[i] = httptest.NewServer(e.chunks[i])
	}
	t.Cleanup(func() {
		e.p.setAct(nil)
		for i := range 2 {
			e.srv[i].Close()
		}
		e.shutdown(e.h[0], e.h[1])
		e.p.mu.Lock()
		if len(e.p.overlapped) > 0 {
			t.Errorf("two runs of one delivery overlapped: %v", e.p.overlapped)
		}
		e.p.mu.Unlock()
		e.checkLogsClean()
	})
	return e
}

// build makes one more receiver on store with the suite's options.
func (e *env) build(t *testing.T, store webhook.Deduper, opts ...webhook.Option) http.Handler {
	t.Helper()
	all := append([]webhook.Option{webhook.WithClock(e.clk), webhook.WithDedupe(store), webhook.WithLogger(e.logger),
		webhook.WithTimeout(ConformanceTimeout)}, opts...)
	h, err := e.s.New(e.p.behaviour(), all...)
	if err != nil {
		t.Fatalf("Subject.New: %v", err)
	}
	return h
}

func (e *env) shutdown(hs ...http.Handler) {
	for _, h := range hs {
		if sd, ok := h.(interface{ Shutdown(context.Context) error }); ok {
			ctx, cancel := context.WithTimeout(context.Background(), realWait)
			if err := sd.Shutdown(ctx); err != nil {
				e.t.Errorf("Shutdown: %v", err)
			}
			cancel()
		}
	}
}

// checkLogsClean fails if a log line holds the secret or a body.
func (e *env) checkLogsClean() {
	logs := e.logs.String()
	if e.s.Secret != "" && strings.Contains(logs, e.s.Secret) {
		e.t.Errorf("a log line contains the signing secret")
	}
	for _, b := range e.bodies {
		if len(b) > 0 && strings.Contains(logs, string(bytes.TrimSpace(b))) {
			e.t.Errorf("a log line contains a delivery body")
		}
	}
}

func (e *env) body(id string) []byte {
	b := e.s.Body(id)
	e.bodies = append(e.bodies, b)
	return b
}

// send POSTs body with hdr to replica i over loopback and returns the
// status; chunked hides the length so the client sends it chunked.
func (e *env) send(i int, body []byte, hdr http.Header, chunked bool) int {
	e.t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // no Len: the client sends it chunked
	}
	req, err := http.NewRequest(http.MethodPost, e.srv[i].URL+"/webhook", rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if chunked {
		req.ContentLength = -1
	}
	resp, err := e.srv[i].Client().Do(req)
	if err != nil {
		e.t.Errorf("delivery failed without an answer (dropped connection?): %v", err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if chunked {
		e.chunks[i].mu.Lock()
		te := e.chunks[i].last
		e.chunks[i].mu.Unlock()
		if len(te) == 0 || te[0] != "chunked" {
			e.t.Errorf("the chunked delivery arrived with Transfer-Encoding %v", te)
		}
	}
	return resp.StatusCode
}

// deliver signs body now and sends it to replica i.
func (e *env) deliver(i int, body []byte) int {
	e.t.Helper()
	return e.send(i, body, e.s.Sign(body), false)
}

// async delivers in the background; the status arrives on the channel.
func (e *env) async(i int, body []byte) <-chan int {
	hdr := e.s.Sign(body)
	ch := make(chan int, 1)
	go func() { ch <- e.send(i, body, hdr, false) }()
	return ch
}

// advance moves the fake clock by d and gives goroutines woken by it
// (lease renewals) a moment to register their next wait.
func (e *env) advance(d time.Duration) {
	n := e.clk.Waiters()
	e.clk.Advance(d)
	e.clk.BlockUntilWaiters(n, 200*time.Millisecond)
}

// waitEntered waits until the callback started for id.
func (e *env) waitEntered(id string) {
	e.t.Helper()
	deadline := time.After(realWait)
	for {
		select {
		case got := <-e.p.entered:
			if got == id {
				return
			}
		case <-deadline:
			e.t.Fatalf("callback for %s never started", id)
		}
	}
}

func (e *env) expect(what string, got, want int) {
	e.t.Helper()
	if got != want {
		e.t.Errorf("%s: status %d, want %d", what, got, want)
	}
}

func (e *env) runs(id string, want int) {
	e.t.Helper()
	if got := e.p.count(id); got != want {
		e.t.Errorf("callback ran %d times for %s, want %d", got, id, want)
	}
}

// pad appends n spaces (valid trailing JSON whitespace).
func pad(b []byte, n int) []byte {
	return append(bytes.Clone(b), bytes.Repeat([]byte{' '}, n)...)
}

func checkMethod(t *testing.T, s Subject) {
	e := newEnv(t, s)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, e.srv[0].URL+"/webhook", nil)
		resp, err := e.srv[0].Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		e.expect(m, resp.StatusCode, http.StatusMethodNotAllowed)
		if got := resp.Header.Get("Allow"); got != http.MethodPost {
			t.Errorf("%s: Allow %q, want POST", m, got)
		}
	}
}

func checkBadSignature(t *testing.T, s Subject) {
	e := newEnv(t, s)
	body := e.body("sig-1")
	hdr := s.Sign(body)
	e.expect("tampered body", e.send(0, pad(body, 1), hdr, false), http.StatusUnauthorized)
	other := e.body("sig-2")
	e.expect("another body's signature", e.send(0, body, s.Sign(other), false), http.StatusUnauthorized)
	e.expect("no signature", e.send(0, body, http.Header{"Content-Type": {"application/json"}}, false), http.StatusUnauthorized)
	e.runs("sig-1", 0)
	e.expect("the genuine delivery", e.send(0, body, hdr, false), http.StatusOK)
	e.runs("sig-1", 1)
}

func checkStale(t *testing.T, s Subject) {
	tol := s.Tolerance
	if tol == 0 {
		tol = 5 * time.Minute
	}
	e := newEnv(t, s, webhook.WithTolerance(tol))
	body := e.body("stale-1")
	hdr := s.Sign(body)
	e.advance(tol + time.Hour)
	e.expect("an hour-old delivery", e.send(0, body, hdr, false), http.StatusUnauthorized)
	e.runs("stale-1", 0)
	fresh := e.body("stale-1")
	e.expect("the same delivery made now", e.deliver(1, fresh), http.StatusOK)
	e.runs("stale-1", 1)
}

func checkBodyLimit(t *testing.T, s Subject) {
	base := s.Body("limit-cl")
	limit := int64(len(base) + 64)
	e := newEnv(t, s, webhook.WithMaxBodyBytes(limit))
	for _, chunked := range []bool{false, true} {
		how := map[bool]string{false: "with Content-Length", true: "chunked"}[chunked]
		id := "limit-cl"
		if chunked {
			id = "limit-ch"
		}
		b := e.body(id)
		at := pad(b, int(limit)-len(b))
		over := pad(b, int(limit)-len(b)+1)
		e.expect("one byte over the limit "+how, e.send(0, over, s.Sign(over), chunked), http.StatusRequestEntityTooLarge)
		e.runs(id, 0)
		e.expect("exactly at the limit "+how, e.send(0, at, s.Sign(at), chunked), http.StatusOK)
		e.runs(id, 1)
	}
	// The receiver's own default limit.
	d := newEnv(t, s)
	for _, chunked := range []bool{false, true} {
		id := fmt.Sprintf("limit-default-%v", chunked)
		b := d.s.Body(id)
		at := pad(b, int(s.MaxBodyBytes)-len(b))
		over := append(bytes.Clone(at), ' ')
		d.expect("one byte over the default limit", d.send(1, over, s.Sign(over), chunked), http.StatusRequestEntityTooLarge)
		d.expect("exactly at the default limit", d.send(1, at, s.Sign(at), chunked), http.StatusOK)
		d.runs(id, 1)
	}
}

func checkContentLengthLie(t *testing.T, s Subject) {
	e := newEnv(t, s)
	claim := s.MaxBodyBytes
	// In process: requests claiming the whole limit with a small body must
	// not allocate the claim.
	const n = 8
	reqs := make([]*http.Request, n)
	for i := range reqs {
		b := e.body(fmt.Sprintf("lie-%d", i))
		reqs[i] = httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(b))
		reqs[i].Header = s.Sign(b)
		reqs[i].ContentLength = claim
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, r := range reqs {
		w := httptest.NewRecorder()
		e.h[0].ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Errorf("a body shorter than its Content-Length: status %d", w.Code)
		}
	}
	runtime.ReadMemStats(&after)
	if per := int64(after.TotalAlloc-before.TotalAlloc) / n; per > claim/4 {
		t.Errorf("a request claiming %d bytes allocated %d bytes: the buffer is sized from Content-Length", claim, per)
	}
	// Over the wire: the client claims the limit, sends a few bytes and
	// hangs up; the receiver answers instead of waiting or crashing.
	conn := dial(t, e.srv[0])
	defer conn.Close()
	hdr := s.Sign([]byte(`{"id":`))
	writeHead(t, conn, hdr, claim)
	_, _ = conn.Write([]byte(`{"id":`))
	_ = conn.(*net.TCPConn).CloseWrite()
	e.expect("a body that stops short of its Content-Length", readStatus(t, conn), http.StatusBadRequest)
}

func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(realWait))
	return conn
}

func writeHead(t *testing.T, conn net.Conn, hdr http.Header, length int64) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("POST /webhook HTTP/1.1\r\nHost: receiver.test\r\n")
	_ = hdr.Write(&b)
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", length)
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

func readStatus(t *testing.T, conn net.Conn) int {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Errorf("no answer: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func gz(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func checkEncoding(t *testing.T, s Subject) {
	e := newEnv(t, s)
	body := e.body("gzip-1")
	hdr := s.Sign(body)
	hdr.Set("Content-Encoding", "gzip")
	e.expect("a gzip body", e.send(0, gz(t, body), hdr, false), http.StatusOK)
	e.runs("gzip-1", 1)
	e.expect("the same delivery again, plain", e.deliver(1, body), http.StatusOK)
	e.runs("gzip-1", 1)

	bomb := pad(e.body("gzip-2"), int(s.MaxBodyBytes))
	hdr = s.Sign(bomb)
	hdr.Set("Content-Encoding", "gzip")
	e.expect("gzip decoding past the limit", e.send(0, gz(t, bomb), hdr, false), http.StatusRequestEntityTooLarge)

	body = e.body("br-1")
	for _, enc := range []string{"br", "deflate", "zstd"} {
		hdr = s.Sign(body)
		hdr.Set("Content-Encoding", enc)
		e.expect("Content-Encoding "+enc, e.send(0, body, hdr, false), http.StatusUnsupportedMediaType)
	}
	e.runs("gzip-2", 0)
	e.runs("br-1", 0)
}

func checkSlowBody(t *testing.T, s Subject) {
	e := newEnv(t, s, webhook.WithReadTimeout(conformanceRead))
	body := e.body("slow-body")
	conn := dial(t, e.srv[0])
	defer conn.Close()
	writeHead(t, conn, s.Sign(body), int64(len(body)))
	_, _ = conn.Write(body[:len(body)/2])
	start := time.Now()
	e.expect("a body slower than the read timeout", readStatus(t, conn), http.StatusRequestTimeout)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the 408 came after %v with a %v read timeout", took, conformanceRead)
	}
	e.runs("slow-body", 0)
}

func checkErrorThenRetry(t *testing.T, s Subject) {
	checkFailThenRetry(t, s, "err-1", "a failing callback", func() error { return errors.New("crm down") })
}

func checkPanicThenRetry(t *testing.T, s Subject) {
	checkFailThenRetry(t, s, "panic-1", "a panicking callback", func() error { panic("callback bug") })
}

// checkFailThenRetry: the first run of id's callback calls fail (returns
// its error or panics); the delivery answers 500, its retry on the other
// replica 200, a duplicate after that 200, and the callback ran twice.
func checkFailThenRetry(t *testing.T, s Subject, id, what string, fail func() error) {
	e := newEnv(t, s)
	e.p.setAct(func(_ context.Context, _ string, run int) error {
		if run == 1 {
			return fail()
		}
		return nil
	})
	body := e.body(id)
	e.expect(what, e.deliver(0, body), http.StatusInternalServerError)
	e.expect("the retry on the other replica", e.deliver(1, body), http.StatusOK)
	e.expect("a duplicate after success", e.deliver(0, body), http.StatusOK)
	e.runs(id, 2)
}

func checkConcurrentDuplicates(t *testing.T, s Subject) {
	e := newEnv(t, s)
	const n = 8
	release := make(chan struct{})
	e.p.setAct(func(context.Context, string, int) error {
		select {
		case <-release:
			return nil
		case <-time.After(realWait):
			return errors.New("never released")
		}
	})
	body := e.body("dup-1")
	statuses := make(chan int, n)
	for i := range n {
		hdr := s.Sign(body)
		go func() { statuses <- e.send(i%2, body, hdr, false) }()
	}
	count := map[int]int{}
	for range n - 1 {
		count[<-statuses]++
	}
	close(release)
	count[<-statuses]++
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("%d concurrent copies answered %v, want one 200 and %d 409", n, count, n-1)
	}
	e.runs("dup-1", 1)
	e.expect("a redelivery afterwards", e.deliver(1, body), http.StatusOK)
	e.runs("dup-1", 1)
}

func checkSlowCallback(t *testing.T, s Subject) {
	e := newWatchedEnv(t, s, webhook.WithTimeout(slowDeadline))
	release := make(chan struct{})
	ctxDone := make(chan bool, 1)
	e.p.setAct(func(ctx context.Context, _ string, run int) error {
		if run > 1 {
			return nil
		}
		select { // ignores ctx on purpose
		case <-release:
		case <-time.After(2 * realWait):
		}
		ctxDone <- ctx.Err() != nil
		return nil
	})
	body := e.body("slow-1")
	mark := e.log.mark()
	start := time.Now()
	first := e.async(0, body)
	e.waitEntered("slow-1")
	if !s.Untimed {
		// The deadline is a real timer (the engine's, not the Subject's
		// clock): wait for the 504 in real time.
		select {
		case code := <-first:
			e.expect("a callback past its deadline", code, http.StatusGatewayTimeout)
		case <-time.After(realWait):
			t.Fatalf("no answer %v after a %v deadline", realWait, slowDeadline)
		}
		if elapsed := time.Since(start); elapsed < slowDeadline {
			t.Errorf("answered after %v, before the %v deadline", elapsed, slowDeadline)
		}
	}
	e.expect("a retry while the callback runs", e.deliver(1, body), http.StatusConflict)
	// The lease renewal waits on the Subject's clock: let it register
	// before the clock moves (it starts with the 504, on its own
	// goroutine).
	e.clk.BlockUntilWaiters(1, realWait)
	for range 12 { // three leases
		e.advance(ConformanceLease / 4)
	}
	e.expect("a retry after three leases", e.deliver(1, body), http.StatusConflict)
	e.expect("a retry after three leases, same replica", e.deliver(0, body), http.StatusConflict)
	e.runs("slow-1", 1)
	close(release)
	if !s.Untimed {
		if !<-ctxDone {
			t.Errorf("the callback's context was not done after its deadline")
		}
	} else {
		e.expect("the wrapped handler's own answer", <-first, http.StatusOK)
	}
	// Past its deadline the callback's commit lands after the answer (the
	// 504 went long ago), so no answer says it landed: the store does.
	e.committed("the slow callback, once it returned nil", mark)
	e.expect("a retry once the callback returned", e.deliver(1, body), http.StatusOK)
	e.runs("slow-1", 1)
}

func checkSharedStore(t *testing.T, s Subject) {
	e := newEnv(t, s)
	store := e.stores[0]
	east := e.build(t, store, webhook.WithName("east"))
	west := e.build(t, store, webhook.WithName("west"))
	defer e.shutdown(east, west)
	body := e.body("shared-1")
	serve := func(h http.Handler, b []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(b))
		req.Header = s.Sign(b)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	e.expect("receiver default", e.deliver(0, body), http.StatusOK)
	e.expect("receiver east, same id", serve(east, body), http.StatusOK)
	e.expect("receiver west, same id", serve(west, body), http.StatusOK)
	e.runs("shared-1", 3)
	e.expect("receiver east again", serve(east, body), http.StatusOK)
	e.expect("receiver default again", e.deliver(1, body), http.StatusOK)
	e.runs("shared-1", 3)
	if s.Unknown == nil {
		return
	}
	// Another provider on the same store, with the very same delivery id.
	u := e.s.Unknown("shared-u")
	e.bodies = append(e.bodies, u)
	e.expect("unknown event", e.deliver(0, u), http.StatusOK)
	e.p.mu.Lock()
	if len(e.p.unknown) != 1 {
		e.p.mu.Unlock()
		t.Fatalf("Unknown ran %d times, want 1", len(e.p.unknown))
	}
	ev := e.p.unknown[0]
	e.p.mu.Unlock()
	if ev.Provider == "webhook" {
		return // the subject is the generic Middleware itself
	}
	ran := 0
	hmac, err := webhook.NewHMAC("X-Other-Signature", "", "other-provider-secret")
	if err != nil {
		t.Fatal(err)
	}
	mw, err := webhook.Middleware(hmac, webhook.WithDedupe(store), webhook.WithClock(e.clk), webhook.WithName(ev.Receiver),
		webhook.WithKey(func(*webhook.Event) (string, error) { return ev.ID, nil }))
	if err != nil {
		t.Fatal(err)
	}
	other := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ }))
	signer, _ := webhook.NewHMACSigner("X-Other-Signature", "", "other-provider-secret")
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/other", strings.NewReader(`{"other":true}`))
		_ = signer.SignHeader(req.Header, []byte(`{"other":true}`))
		w := httptest.NewRecorder()
		other.ServeHTTP(w, req)
		e.expect("another provider, colliding id "+ev.ID, w.Code, http.StatusOK)
	}
	if ran != 1 {
		t.Errorf("another provider's delivery with a colliding id ran %d times, want 1", ran)
	}
	e.expect("the first provider's redelivery", e.deliver(1, u), http.StatusOK)
	e.p.mu.Lock()
	if len(e.p.unknown) != 1 {
		t.Errorf("Unknown ran %d times, want 1", len(e.p.unknown))
	}
	e.p.mu.Unlock()
}

func checkUnknown(t *testing.T, s Subject) {
	e := newEnv(t, s)
	body := s.Unknown("unknown-1")
	e.bodies = append(e.bodies, body)
	if code := e.deliver(0, body); code < 200 || code > 299 {
		t.Errorf("an unknown event type: status %d, want 2xx", code)
	}
	if code := e.deliver(1, body); code < 200 || code > 299 {
		t.Errorf("an unknown event's redelivery: status %d, want 2xx", code)
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	if len(e.p.unknown) != 1 {
		t.Fatalf("Unknown ran %d times, want once", len(e.p.unknown))
	}
	ev := e.p.unknown[0]
	if !bytes.Equal(ev.Raw, body) {
		t.Errorf("Unknown got %d raw bytes, not the %d delivered", len(ev.Raw), len(body))
	}
	if ev.ID == "" || ev.Type == "" || ev.Provider == "" {
		t.Errorf("Unknown's event lacks ID, Type or Provider: %+v", ev)
	}
	if len(e.p.runs) != 0 {
		t.Errorf("an unknown event reached the known event's callback: %v", e.p.runs)
	}
}

func checkLogs(t *testing.T, s Subject) {
	e := newEnv(t, s)
	e.p.setAct(func(context.Context, string, int) error { return errors.New("crm rejected") })
	body := e.body("log-1")
	want := []int{
		e.send(0, pad(body, 1), s.Sign(body), false),
		e.deliver(0, body),
	}
	e.expect("bad signature", want[0], http.StatusUnauthorized)
	e.expect("callback error", want[1], http.StatusInternalServerError)
	provider := ""
	seen := map[int]bool{}
	for _, l := range logLines(t, e.logs) {
		st, ok := l["status"].(float64)
		if !ok || l["level"] == "DEBUG" {
			continue
		}
		seen[int(st)] = true
		for _, k := range []string{"provider", "delivery_id", "event", "status", "error"} {
			if _, ok := l[k]; !ok {
				t.Errorf("log line %q (status %v) has no %q", l["msg"], st, k)
			}
		}
		p, _ := l["provider"].(string)
		if p == "" || provider != "" && p != provider {
			t.Errorf("log lines name providers %q and %q", provider, p)
		}
		provider = p
		if int(st) == http.StatusInternalServerError && l["delivery_id"] == "" {
			t.Errorf("the failure's log line names no delivery_id: %v", l)
		}
	}
	for _, st := range want {
		if !seen[st] {
			t.Errorf("no log line with status %d", st)
		}
	}
}

func checkMiddleware(t *testing.T, s Subject) {
	e := newWatchedEnv(t, s)
	mw, err := s.Middleware(webhook.WithClock(e.clk), webhook.WithDedupe(e.stores[0]), webhook.WithLogger(e.logger))
	if err != nil {
		t.Fatalf("Subject.Middleware: %v", err)
	}
	var mu sync.Mutex
	runs := 0
	var next func(w http.ResponseWriter, run int)
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := webhook.EventFrom(r.Context()); !ok {
			t.Errorf("the wrapped handler has no verified event in its context")
		}
		if got, _ := io.ReadAll(r.Body); len(got) == 0 {
			t.Errorf("the wrapped handler got an empty body")
		}
		mu.Lock()
		runs++
		run, f := runs, next
		mu.Unlock()
		f(w, run)
	})))
	defer srv.Close()
	got1xx := 0
	post := func(body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = s.Sign(body)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			Got1xxResponse: func(int, textproto.MIMEHeader) error { got1xx++; return nil },
		}))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("wrapped handler: no answer (dropped connection?): %v", err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	set := func(f func(w http.ResponseWriter, run int)) {
		mu.Lock()
		next, runs = f, 0
		mu.Unlock()
	}
	ran := func(want int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if runs != want {
			t.Errorf("wrapped handler ran %d times, want %d", runs, want)
		}
	}

	// 1xx then 500: not committed, the retry runs and commits.
	set(func(w http.ResponseWriter, run int) {
		if run == 1 {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	body := e.body("mw-1")
	e.expect("wrapped handler: 103 then 500", post(body), http.StatusInternalServerError)
	if got1xx == 0 {
		t.Errorf("the 103 Early Hints never reached the client")
	}
	e.expect("wrapped handler: the retry", post(body), http.StatusNoContent)
	e.expect("wrapped handler: a duplicate", post(body), http.StatusOK)
	ran(2)

	// A panic: 500 on a live connection, released.
	set(func(w http.ResponseWriter, run int) {
		if run == 1 {
			panic("handler bug")
		}
	})
	body = e.body("mw-2")
	e.expect("wrapped handler: panic", post(body), http.StatusInternalServerError)
	e.expect("wrapped handler: the retry after a panic", post(body), http.StatusOK)
	e.expect("wrapped handler: a duplicate", post(body), http.StatusOK)
	ran(2)

	// A wrapped handler outliving the lease keeps its key.
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	set(func(w http.ResponseWriter, run int) {
		if run == 1 {
			entered <- struct{}{}
			select {
			case <-release:
			case <-time.After(2 * realWait):
			}
		}
	})
	body = e.body("mw-3")
	mark := e.log.mark()
	first := make(chan int, 1)
	go func() { first <- post(body) }()
	select {
	case <-entered:
	case <-time.After(realWait):
		t.Fatal("wrapped handler never started")
	}
	for range 12 {
		e.advance(ConformanceLease / 4)
	}
	e.expect("wrapped handler: a retry after three leases", post(body), http.StatusConflict)
	close(release)
	e.expect("wrapped handler: its own answer", <-first, http.StatusOK)
	e.committed("the wrapped handler that outlived the lease", mark)
	e.expect("wrapped handler: a duplicate", post(body), http.StatusOK)
	ran(1)
}

// storeLog records, in order, what receivers did with a check's stores:
// each reservation asked for and each one ended (committed or released).
// A commit the receiver makes after it answered (a callback past its
// deadline) cannot be seen over HTTP; the store sees it land.
type storeLog struct {
	mu     sync.Mutex
	events []storeEvent
	grew   chan struct{} // closed and replaced on every event
}

type storeEvent struct {
	op  string // "reserve", "commit" or "release"
	key string
	err error
}

func newStoreLog() *storeLog { return &storeLog{grew: make(chan struct{})} }

func (l *storeLog) add(op, key string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, storeEvent{op, key, err})
	close(l.grew)
	l.grew = make(chan struct{})
}

// mark is where the log is now, for ended.
func (l *storeLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// ended waits at most realWait for the end of the first reservation taken
// after mark: a commit that succeeded, or a release.
func (l *storeLog) ended(mark int) (storeEvent, bool) {
	deadline := time.After(realWait)
	for {
		l.mu.Lock()
		ev, ok := l.find(mark)
		grew := l.grew
		l.mu.Unlock()
		if ok {
			return ev, true
		}
		select {
		case <-grew:
		case <-deadline:
			return storeEvent{}, false
		}
	}
}

func (l *storeLog) find(mark int) (storeEvent, bool) {
	key := ""
	for _, ev := range l.events[mark:] {
		switch {
		case key == "" && ev.op == "reserve" && ev.err == nil:
			key = ev.key
		case key != "" && ev.key == key && (ev.op == "release" || ev.op == "commit" && ev.err == nil):
			return ev, true
		}
	}
	return storeEvent{}, false
}

// wrap logs d's reservations, commits and releases, keeping its
// Fingerprinter extension if it has one.
func (l *storeLog) wrap(d webhook.Deduper) webhook.Deduper {
	s := loggedStore{Deduper: d, log: l}
	if fp, ok := d.(webhook.Fingerprinter); ok {
		return loggedFingerprinter{loggedStore: s, fp: fp}
	}
	return s
}

type loggedStore struct {
	webhook.Deduper
	log *storeLog
}

func (s loggedStore) Reserve(ctx context.Context, key string) (webhook.Reservation, error) {
	r, err := s.Deduper.Reserve(ctx, key)
	s.log.add("reserve", key, err)
	return r, err
}

func (s loggedStore) Commit(ctx context.Context, r webhook.Reservation) error {
	err := s.Deduper.Commit(ctx, r)
	s.log.add("commit", r.Key, err)
	return err
}

func (s loggedStore) Release(ctx context.Context, r webhook.Reservation) error {
	err := s.Deduper.Release(ctx, r)
	s.log.add("release", r.Key, err)
	return err
}

type loggedFingerprinter struct {
	loggedStore
	fp webhook.Fingerprinter
}

func (s loggedFingerprinter) CommitFingerprint(ctx context.Context, r webhook.Reservation, fingerprint string) error {
	err := s.fp.CommitFingerprint(ctx, r, fingerprint)
	s.log.add("commit", r.Key, err)
	return err
}

func (s loggedFingerprinter) SameFingerprint(ctx context.Context, key, fingerprint string) (bool, bool, error) {
	return s.fp.SameFingerprint(ctx, key, fingerprint)
}

// committed waits until the first reservation taken after mark has ended
// (see storeLog.ended) and fails the check unless it ended in a commit.
func (e *env) committed(what string, mark int) {
	e.t.Helper()
	ev, ok := e.log.ended(mark)
	switch {
	case !ok:
		e.t.Fatalf("%s: its delivery's reservation was neither committed nor released within %v", what, realWait)
	case ev.op != "commit":
		e.t.Errorf("%s: its delivery's reservation was released, not committed", what)
	}
}
