package symbo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseE164(t *testing.T) {
	good := map[string]string{
		"+18005551212":      "+18005551212",
		" 18005551212":      "+18005551212", // "+" decoded as a space
		"+1 (800) 555-1212": "+18005551212",
		"+44.20.7946.0958":  "+442079460958",
		"0034611222333":     "+34611222333",
		"+34611222333 ":     "+34611222333",
	}
	for in, want := range good {
		got, err := symbo.ParseE164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "18005551212", "+", "+0123456789", "+123456", "+1234567890123456", "+1800abc1212", "++18005551212"} {
		_, err := symbo.ParseE164(in)
		assert.ErrorIs(t, err, symbo.ErrInvalidNumber, in)
	}
	assert.True(t, symbo.IsE164("+18005551212"))
	assert.False(t, symbo.IsE164("+1 800 555 1212"))
}

var sally = &symbo.Contact{
	ExternalID: "12345", FirstName: "Sally", LastName: "Sample", WorkPhone: "+18005551212", MobilePhone: "+18005551213",
	HomePhone: "+18005551214", OtherPhone: "+18005551215", AddressCity: "Salt Lake City", AddressCountry: "US",
	AddressState: "UT", AddressStreet: "123 Main", AddressStreet2: "Ste 100", AddressZip: "84010",
	PersonalNote1: "This is a personal note", TimeZone: "America/Denver", Title: "Sales Manager",
	Account: &symbo.Account{ExternalID: "9876", Name: "Sample Company", Industry: "Technology"},
}

func TestLookupHandler(t *testing.T) {
	var logs bytes.Buffer
	var gotNumber atomic.Value
	stuck := make(chan struct{})
	defer close(stuck)
	h, err := symbo.NewLookupHandler(nil, func(ctx context.Context, number string) (*symbo.Contact, error) {
		gotNumber.Store(number)
		switch number {
		case "+18005551212":
			return sally, nil
		case "+18005550000":
			return nil, symbo.ErrNoContact
		case "+18005550001":
			return nil, errors.New("db down")
		case "+18005550002":
			return &symbo.Contact{ExternalID: "1", FirstName: "A", Account: &symbo.Account{ExternalID: "x"}}, nil
		case "+18005550003":
			<-stuck // a function that ignores its deadline entirely
			return sally, nil
		case "+18005550004":
			panic("boom")
		}
		return nil, nil
	}, symbo.InsecureNoAuth(), symbo.WithLookupTimeout(100*time.Millisecond), symbo.WithLookupLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, c, err := symbotest.Lookup(context.Background(), srv.Client(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, sally, c)

	// The raw "+" Symbo puts in the query string arrives as a space: accepted.
	resp, err := http.Get(srv.URL + "?number=+18005551212")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "+18005551212", gotNumber.Load())

	for number, want := range map[string]int{"+18005550000": 404, "+18005559999": 404, "+18005550001": 500, "+18005550002": 500, "+18005550004": 500, "12345": 400} {
		code, _, err := symbotest.Lookup(context.Background(), srv.Client(), srv.URL, number)
		require.NoError(t, err)
		assert.Equal(t, want, code, number)
	}
	start := time.Now()
	code, _, _ = symbotest.Lookup(context.Background(), srv.Client(), srv.URL, "+18005550003")
	assert.Equal(t, 504, code)
	assert.Less(t, time.Since(start), 2*time.Second, "answers at the deadline, not when the function returns")

	for _, q := range []string{"", "?number=", "?number=%2B1&number=%2B2"} {
		resp, err := http.Get(srv.URL + q)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode, q)
	}
	resp, err = http.Post(srv.URL+"?number=%2B18005551212", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 405, resp.StatusCode)
	assert.Contains(t, logs.String(), "account.name", "the invalid contact's reason is logged")
}

func TestDocSampleDecodesFieldForField(t *testing.T) {
	ev, err := symbo.ParseCallEvent([]byte(symbotest.DocSample))
	require.NoError(t, err, "one bad timestamp must not fail the event")
	assert.Equal(t, "ecc25304-ad56-4f73-b75c-77f3165c6c65", ev.ID)
	assert.Equal(t, "Call", ev.Object)
	assert.Equal(t, symbo.EventCallCompleted, ev.Type, "001's call.created occurs after a call is completed")
	assert.Equal(t, "35904adb-e732-4ee7-a450-a87dfbe8a7f5", ev.UserID)
	assert.True(t, ev.CreatedAt.Unparsed())
	assert.Equal(t, "023-01-11T20:19:40.000Z", ev.CreatedAt.Raw)
	assert.Equal(t, []string{"created_at"}, ev.UnparsedTimes())
	d := ev.Data
	assert.Equal(t, symbo.Prospect{ID: "f0111f41-53c5-4d39-bfa1-447caa17b732", ExternalID: "12345", ExternalSource: "custom_crm",
		FirstName: "Sally", FullName: "Sally Sample", LastName: "Sample", Title: "Sales Manager"}, d.Prospect)
	ts := func(s string) webhook.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return webhook.Time{Time: tm, Raw: strings.Replace(s, "Z", ".000Z", 1), Valid: true}
	}
	assert.Equal(t, "2dc92583-0376-469b-9909-3a020b75d777", d.ID)
	assert.Equal(t, ts("2023-01-11T20:19:25Z"), d.AnsweredAt)
	assert.Equal(t, "answered_positive", d.CallDisposition)
	assert.Equal(t, ts("2023-01-11T20:19:29Z"), d.CompletedAt)
	assert.Equal(t, ts("2023-01-11T20:19:25Z"), d.CreatedAt)
	assert.Equal(t, ts("2023-01-11T20:19:25Z"), d.DialedAt)
	assert.Equal(t, "outbound", d.Direction)
	assert.Equal(t, "+19897189159", d.From)
	assert.Equal(t, "+1 989 718 9159", d.FromFormatted)
	assert.Equal(t, "User entered call note", d.Note)
	assert.Equal(t, "record", d.ShouldRecordCall)
	assert.Equal(t, "completed", d.State)
	assert.Equal(t, ts("2023-01-11T20:19:29Z"), d.StateChangedAt)
	assert.Equal(t, "+15178626434", d.To)
	assert.Equal(t, "+1 517 862 6434", d.ToFormatted)
	assert.Contains(t, d.Transcription, "This is a test.")
	assert.Equal(t, ts("2022-10-21T17:35:20Z"), d.TranscriptionCompletedAt)
	assert.Equal(t, int64(1399), d.TotalTalkTimeMillis)
	assert.Equal(t, int64(2170), d.TotalConversationDurationMillis)
	assert.Equal(t, int64(830), d.RepTalkTimeMillis)
	assert.Equal(t, int64(569), d.ProspectTalkTimeMillis)
	assert.Equal(t, float64(72), d.RepWordsPerMinute)
	assert.Equal(t, float64(105), d.ProspectWordsPerMinute)
	assert.Equal(t, int64(0), d.TotalSilenceTimeMillis)
	assert.Equal(t, ts("2022-10-21T17:35:20Z"), d.UpdatedAt)
	assert.Equal(t, symbotest.DocSample, string(ev.Raw))
}

func TestWebhookHandler(t *testing.T) {
	const secret = "abcdefg"
	var created, updated, unknown atomic.Int32
	var lastRaw atomic.Value
	states := symbo.NewCallStates()
	dd, _ := webhook.NewMemoryDedupe(time.Hour)
	h, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{
		CallCompleted: func(_ context.Context, ev *symbo.CallEvent) error {
			created.Add(1)
			lastRaw.Store(string(ev.Raw))
			states.Apply(ev)
			return nil
		},
		CallUpdated: func(_ context.Context, ev *symbo.CallEvent) error {
			if ev.Data.Note == "fail" {
				return errors.New("crm down")
			}
			updated.Add(1)
			states.Apply(ev)
			return nil
		},
		Unknown: func(context.Context, *webhook.Event) error { unknown.Add(1); return nil },
	}, webhook.WithDedupe(dd))
	require.NoError(t, err)
	s, _ := symbotest.NewSender(secret)

	assert.Equal(t, 200, s.Serve(h, []byte(symbotest.DocSample)))
	assert.Equal(t, symbotest.DocSample, lastRaw.Load())
	assert.Equal(t, 200, s.Serve(h, []byte(symbotest.DocSample)), "duplicate acknowledged")
	assert.Equal(t, int32(1), created.Load())

	// Both spellings reach the same callback.
	upd := func(id, note string, at time.Time) []byte {
		return symbotest.Event(id, "call:updated", symbo.Call{ID: "2dc92583-0376-469b-9909-3a020b75d777", Note: note, UpdatedAt: webhook.NewTime(at)})
	}
	t0 := time.Date(2023, 1, 11, 21, 0, 0, 0, time.UTC)
	assert.Equal(t, 200, s.Serve(h, upd("ev-2", "later note", t0.Add(time.Minute))))
	assert.Equal(t, 200, s.Serve(h, upd("ev-3", "earlier note", t0)), "accepted, but stale for the state")
	assert.Equal(t, 500, s.Serve(h, upd("ev-4", "fail", t0.Add(2*time.Minute))), "a handler error answers 500")
	dotted := symbotest.Event("ev-5", "call.updated", symbo.Call{ID: "other", UpdatedAt: webhook.NewTime(t0)})
	assert.Equal(t, 200, s.Serve(h, dotted))
	assert.Equal(t, int32(3), updated.Load())
	latest, _, ok := states.Get("2dc92583-0376-469b-9909-3a020b75d777")
	require.True(t, ok)
	assert.Equal(t, "later note", latest.Data.Note, "latest state wins over arrival order")

	assert.Equal(t, 200, s.Serve(h, symbotest.Event("ev-6", "call:transferred", symbo.Call{})))
	assert.Equal(t, int32(1), unknown.Load())

	// Bad requests never reach callbacks.
	before := created.Load() + updated.Load() + unknown.Load()
	bad := []struct {
		name   string
		method string
		body   string
		sig    string
		want   int
	}{
		{"no signature", "POST", symbotest.DocSample, "", 401},
		{"wrong signature", "POST", symbotest.DocSample, s.Sign([]byte("x")).Get(symbo.HeaderSignature), 401},
		{"sha256= prefix", "POST", symbotest.DocSample, "sha256=" + s.Sign([]byte(symbotest.DocSample)).Get(symbo.HeaderSignature), 400},
		{"GET", "GET", symbotest.DocSample, s.Sign([]byte(symbotest.DocSample)).Get(symbo.HeaderSignature), 405},
		{"not json", "POST", "{", s.Sign([]byte("{")).Get(symbo.HeaderSignature), 400},
		{"bad number type", "POST", `{"id":"x","description":"call:created","data":{"total_talk_time_millis":"abc"}}`, "", 400},
		{"oversize", "POST", `{"id":"big","pad":"` + strings.Repeat("a", 2<<20) + `"}`, "", 413},
	}
	for _, b := range bad {
		req := httptest.NewRequest(b.method, "/", strings.NewReader(b.body))
		sig := b.sig
		if b.name == "bad number type" || b.name == "oversize" {
			sig = s.Sign([]byte(b.body)).Get(symbo.HeaderSignature)
		}
		if sig != "" {
			req.Header.Set(symbo.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, b.want, rec.Code, b.name)
	}
	assert.Equal(t, before, created.Load()+updated.Load()+unknown.Load())
	_, err = symbo.NewHandler([]string{""}, symbo.Callbacks{})
	assert.ErrorIs(t, err, webhook.ErrInvalidSecret)
}

// TestCallCreatedRoutesByDocumentedMeaning: 001's "call.created" (after a
// call is completed) reaches CallCompleted, the guide's "call:created"
// (initiated) reaches CallCreated, and a handler with only Call sees every
// call event with its canonical name.
func TestCallCreatedRoutesByDocumentedMeaning(t *testing.T) {
	var got []string
	rec := func(tag string) symbo.Func {
		return func(_ context.Context, ev *symbo.CallEvent) error {
			got = append(got, tag+":"+string(ev.Type))
			return nil
		}
	}
	h, err := symbo.NewHandler([]string{"k"}, symbo.Callbacks{CallCreated: rec("created"), CallCompleted: rec("completed")})
	require.NoError(t, err)
	s, _ := symbotest.NewSender("k")
	assert.Equal(t, 200, s.Serve(h, []byte(symbotest.DocSample)))
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("e2", "call:created", symbo.Call{ID: "c2"})))
	assert.Equal(t, 200, s.Serve(h, symbotest.Event("e3", "call:completed", symbo.Call{ID: "c2"})))
	assert.Equal(t, []string{"completed:call:completed", "created:call:created", "completed:call:completed"}, got)

	got = nil
	all, err := symbo.NewHandler([]string{"k"}, symbo.Callbacks{Call: rec("call")})
	require.NoError(t, err)
	for i, name := range []symbo.EventType{"call.created", "call:created", "call:completed", "call.updated", "call:updated", "call:recording-completed"} {
		assert.Equal(t, 200, s.Serve(all, symbotest.Event(fmt.Sprint("x", i), name, symbo.Call{ID: "c"})))
	}
	assert.Equal(t, []string{"call:call:completed", "call:call:created", "call:call:completed", "call:call:updated", "call:call:updated",
		"call:call:recording-completed"}, got)
}

// TestLookupAuthentication: the lookup serves personal data, so it refuses
// unauthenticated callers and cannot be built without authentication.
func TestLookupAuthentication(t *testing.T) {
	fn := func(context.Context, string) (*symbo.Contact, error) { return sally, nil }
	_, err := symbo.NewLookupHandler(nil, fn)
	require.ErrorIs(t, err, webhook.ErrInvalidOption, "no authentication is a construction error")
	_, err = symbo.NewLookupHandler(nil, fn, symbo.WithLookupToken("short"))
	require.ErrorIs(t, err, webhook.ErrInvalidOption)

	var logs bytes.Buffer
	h, err := symbo.NewLookupHandler([]string{"abcdefg"}, fn, symbo.WithLookupLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, _, err := symbotest.Lookup(context.Background(), srv.Client(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 401, code, "unsigned")
	s, _ := symbotest.NewSender("abcdefg")
	d, _ := symbotest.NewDialer("abcdefg")
	d.Client = srv.Client()
	code, c, err := d.Lookup(context.Background(), srv.URL, "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 200, code, "HMAC over the raw query string")
	assert.Equal(t, sally, c)
	assert.Contains(t, logs.String(), "hmac(raw query)")
	code, _ = getSigned(t, srv.URL+"?number=%2B18005551212", s.Sign(nil).Get(symbo.HeaderSignature))
	assert.Equal(t, 401, code, "HMAC over the empty body: refused by strict lookups (TestLookupStrictSignatureByDefault)")
	assert.Contains(t, logs.String(), "HMAC over the empty body")
	other, _ := symbotest.NewDialer("wrong")
	other.Client = srv.Client()
	code, _, _ = other.Lookup(context.Background(), srv.URL, "+18005551212")
	assert.Equal(t, 401, code, "wrong secret")
	assert.NotContains(t, logs.String(), "abcdefg")

	const token = "lookup-token-0123456789"
	ht, err := symbo.NewLookupHandler(nil, fn, symbo.WithLookupToken(token))
	require.NoError(t, err)
	tsrv := httptest.NewServer(ht)
	defer tsrv.Close()
	code, _, _ = symbotest.Lookup(context.Background(), tsrv.Client(), tsrv.URL+"?token="+token, "+18005551212")
	assert.Equal(t, 200, code)
	code, _, _ = symbotest.Lookup(context.Background(), tsrv.Client(), tsrv.URL+"?token=lookup-token-0123456788", "+18005551212")
	assert.Equal(t, 401, code)
	code, _, _ = symbotest.Lookup(context.Background(), tsrv.Client(), tsrv.URL, "+18005551212")
	assert.Equal(t, 401, code)
}

func FuzzParseCallEvent(f *testing.F) {
	f.Add([]byte(symbotest.DocSample))
	f.Add([]byte(`{"created_at":12}`))
	f.Add([]byte(`{"data":{"answered_at":"2023-13-45T99:99:99Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := symbo.ParseCallEvent(body)
		if err != nil {
			return
		}
		_ = ev.UnparsedTimes()
		_, _ = ev.Version()
		_ = ev.Type
		states := symbo.NewCallStates()
		states.Apply(ev)
	})
}

// TestLookupOptionsAreTheirOwnType: symbo.WithLookupToken guards the
// lookup, not webhooks, and a receiver option (webhook.WithInbox) means
// nothing to a lookup: neither list accepts the other's options, so the
// mistake does not compile (asserted here with the assignability rule
// the compiler applies).
func TestLookupOptionsAreTheirOwnType(t *testing.T) {
	lookup, receiver := reflect.TypeOf(symbo.WithLookupToken("lookup-token-0123456789")), reflect.TypeOf(webhook.WithInbox(nil))
	assert.False(t, lookup.AssignableTo(receiver), "a LookupOption is not a webhook.Option")
	assert.False(t, receiver.AssignableTo(lookup), "a webhook.Option is not a LookupOption")
	_, err := symbo.NewLookupHandler(nil, func(context.Context, string) (*symbo.Contact, error) { return nil, nil }, symbo.WithLookupTimeout(0))
	assert.ErrorIs(t, err, webhook.ErrInvalidOption)
	assert.ErrorContains(t, err, "WithLookupTimeout")
}

// TestParseE164AcceptsSevenDigitNumbers: E.164 numbers with short
// subscriber numbers (Niue, Tokelau) have 7 digits after "+"; 6 is too
// few.
func TestParseE164AcceptsSevenDigitNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"+6834002":   "+6834002", // Niue
		"+690 3456":  "+6903456", // Tokelau
		" 6834002":   "+6834002", // "+" decoded as a space
		"006834002":  "+6834002",
		"+683-4002 ": "+6834002",
	} {
		got, err := symbo.ParseE164(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	assert.True(t, symbo.IsE164("+6834002"))
	_, err := symbo.ParseE164("+683400")
	assert.ErrorIs(t, err, symbo.ErrInvalidNumber, "6 digits")
	assert.ErrorContains(t, err, "7 to 15")
}
