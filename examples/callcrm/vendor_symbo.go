package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// symboVendor: hex HMAC-SHA256 of the raw body in X-Hmac-Signature, no
// timestamp; the call events share the documented Call sample.
var symboVendor = &vendor{
	name:    "symbo",
	title:   "Symbo",
	scheme:  "X-Hmac-Signature = hex(HMAC-SHA256(webhook_secret, raw body)); no timestamp",
	headers: []string{symbo.HeaderSignature},
	retry:   "Symbo \"will log the failure and retry\": the same body (same event id), so the same signature",
	events: []event{
		{name: string(symbo.EventCallCreated)},
		{name: string(symbo.EventCallCompleted)},
		{name: string(symbo.EventCallUpdated)},
		{name: string(symbo.EventCallRecordingCompleted)},
		{name: string(symbo.EventProspectCreated), note: "no Prospect body is documented: the sample's data.prospect is sent with object \"Prospect\""},
		{name: "call.created", note: "the older article's spelling (its sample's own), meaning a completed call"},
	},
	newID: randomUUID,
	build: func(ev, id string, step, total int, now time.Time) (*object, error) {
		o := sample("symbo.json")
		o.set("id", id)
		o.set("description", ev)
		at := isoMillis(now.Add(time.Duration(step) * time.Second))
		o.set("created_at", at)
		if total > 1 {
			// Ordering keys (symbo.CallStates): later events are newer.
			_ = setPath(o, "data.updated_at", at)
			_ = setPath(o, "data.state_changed_at", at)
		}
		if ev == string(symbo.EventProspectCreated) {
			p, _ := o.vals["data"].(*object).get("prospect")
			o.set("object", "Prospect")
			o.set("data", p)
		}
		return o, nil
	},
	sequence: func(ev string) []string {
		return prefixSequence([]string{string(symbo.EventCallCreated), string(symbo.EventCallCompleted), string(symbo.EventCallUpdated), string(symbo.EventCallRecordingCompleted)}, ev)
	},
	sign:           bodySigner(symbotest.NewSender),
	verifier:       hmacVerifier(symbo.HeaderSignature, ""),
	secretVariants: hmacSecretVariants,
}

const lookupHelp = `Calls your contact-lookup endpoint the way Symbo's dialer does when a user dials
NUMBER: GET URL?number=<E.164>, signed with X-Hmac-Signature = hex(HMAC-SHA256(
webhook_secret, raw query string)). Symbo does not document what it signs on a GET;
the SDK's symbo.NewLookupHandler accepts only this by default (the empty body
too with symbo.InsecureAcceptEmptyBodySignature). Prints the
status, the contact (or the error body) and the time taken. NUMBER is sent as
given (Symbo sends E.164, "+18005551212"), so you can also try malformed ones.
Exit 0 on 200, 1 on 404 or any other answer.`

func cmdLookup(ctx context.Context, args []string, e *env) error {
	fs := newFlags(e, "lookup -url URL -secret S NUMBER", lookupHelp)
	target := fs.String("url", "", "your lookup endpoint, e.g. http://127.0.0.1:8080/symbo/lookup (required)")
	secretArg := fs.String("secret", "", "Symbo's webhook_secret (default $CALLCRM_SECRET)")
	unsigned := fs.Bool("unsigned", false, "send no X-Hmac-Signature (for an endpoint authenticated by a ?token= in -url)")
	timeout := fs.Duration("timeout", 15*time.Second, "request timeout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("lookup wants one NUMBER, got %d arguments", len(pos))
	}
	number := pos[0]
	if *target == "" {
		return usageErrorf("-url is required")
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("-url %q is not an http(s) URL", *target)
	}
	q := u.Query()
	q.Set("number", number)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageErrorf("-url: %v", err)
	}
	if !*unsigned {
		secret, err := secretFlag(e, *secretArg)
		if err != nil {
			return err
		}
		s, err := webhook.NewHMACSigner(symbo.HeaderSignature, "", secret)
		if err != nil {
			return usageErrorf("-secret: %v", err)
		}
		_ = s.SignHeader(req.Header, []byte(u.RawQuery))
	}
	req.Header.Set("User-Agent", "callcrm (callcrm-go; Symbo contact lookup simulation)")
	client := &http.Client{Timeout: *timeout}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return &ioError{err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	took := time.Since(start)
	if err != nil {
		return &ioError{err}
	}
	fmt.Fprintf(e.stdout, "symbo lookup number=%s\n  status: %s\n  time:   %s\n  body:   %s\n", number, resp.Status, took.Round(10*time.Microsecond), answerText(body))
	if resp.StatusCode != http.StatusOK {
		return errRejected
	}
	return nil
}
