package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const triggerHelp = `Sends a documented event of VENDOR (siro, symbo, callsync, sivo) to -url,
built from the vendor's documented sample and signed exactly as the vendor signs.
Prints each request's status, the answer's body and the time taken.

The message id goes where the vendor puts it (Siro: svix-id; Symbo and SIVO: the
body's "id"; CallSync: "payload_id"); the event's timestamp is the send time.
-set overrides any field after that: -set data.note=hello -set data.total_talk_time_millis=0
-set 'crm.users.0.externalId="42"' (values are JSON literals when they parse as one).

-repeat N sends the same message N more times the way the vendor retries it
(same id; Siro re-signs with a new timestamp). -out-of-order sends the related
events the vendor emits up to EVENT (Siro: the other recording event first;
Symbo, CallSync, SIVO: the call's earlier events) in reverse order.

"callcrm trigger list" lists every event per vendor.`

func cmdTrigger(ctx context.Context, args []string, e *env) error {
	fs := newFlags(e, "trigger VENDOR EVENT -url URL -secret S [flags]  |  trigger list", triggerHelp)
	target := fs.String("url", "", "your endpoint, e.g. http://127.0.0.1:8080/webhooks/siro (required)")
	secretArg := fs.String("secret", "", "the vendor's signing secret (default $CALLCRM_SECRET)")
	var sets multiFlag
	fs.Var(&sets, "set", "override a field: path=value (repeatable)")
	id := fs.String("id", "", "message id (default: a new one in the vendor's style)")
	repeat := fs.Int("repeat", 0, "resend the same message `N` more times, as the vendor retries")
	outOfOrder := fs.Bool("out-of-order", false, "send the related events up to EVENT in reverse order")
	timeout := fs.Duration("timeout", 15*time.Second, "per-request timeout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "list" {
		return listEvents(e.stdout)
	}
	if len(pos) != 2 {
		return usageErrorf("trigger wants VENDOR EVENT (or \"list\"), got %d arguments", len(pos))
	}
	v, err := lookupVendor(pos[0])
	if err != nil {
		return err
	}
	ev := pos[1]
	if !v.hasEvent(ev) {
		return usageErrorf("%s documents no event %q (want one of %s)", v.title, ev, strings.Join(v.eventNames(), ", "))
	}
	if *target == "" {
		return usageErrorf("-url is required")
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("-url %q is not an http(s) URL", *target)
	}
	secret, err := secretFlag(e, *secretArg)
	if err != nil {
		return err
	}
	if *repeat < 0 {
		return usageErrorf("-repeat must be 0 or more")
	}
	type override struct {
		path string
		val  any
	}
	var overrides []override
	for _, s := range sets {
		path, val, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return usageErrorf("-set %q: want path=value", s)
		}
		overrides = append(overrides, override{path, parseValue(val)})
	}
	seq := []string{ev}
	if *outOfOrder {
		if seq = v.sequence(ev); len(seq) < 2 {
			return usageErrorf("%s emits no related events before %s: -out-of-order has nothing to reorder", v.title, ev)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	type message struct {
		event, id string
		body      []byte
	}
	msgs := make([]message, len(seq))
	for i, name := range seq {
		mid := *id
		switch {
		case mid == "":
			mid = v.newID()
		case len(seq) > 1:
			mid = mid + "-" + strconv.Itoa(i+1)
		}
		o, err := v.build(name, mid, i, len(seq), now)
		if err != nil {
			return err
		}
		for _, ov := range overrides {
			if err := setPath(o, ov.path, ov.val); err != nil {
				return usageErrorf("-set %s: %v", ov.path, err)
			}
		}
		body, err := marshal(o)
		if err != nil {
			return err
		}
		msgs[i] = message{event: name, id: mid, body: body}
	}
	if *outOfOrder {
		slices.Reverse(msgs)
		fmt.Fprintf(e.stdout, "%s emits %s; sending them in reverse order.\n", v.title, strings.Join(seq, " then "))
	}
	client := &http.Client{Timeout: *timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // vendors do not follow redirects
	}}
	rejected := false
	for _, m := range msgs {
		for attempt := 0; attempt <= *repeat; attempt++ {
			label := fmt.Sprintf("%s %s id=%s", v.name, m.event, m.id)
			if attempt == 1 {
				fmt.Fprintf(e.stdout, "resending as %s retries: %s\n", v.title, strings.TrimPrefix(v.retry, v.title+" "))
			}
			if attempt > 0 {
				label += fmt.Sprintf(" (resend %d of %d)", attempt, *repeat)
			}
			status, answer, took, err := deliver(ctx, client, v, secret, *target, m.id, m.body)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s\n  status: %s\n  time:   %s\n  body:   %s\n", label, status, took.Round(10*time.Microsecond), answerText(answer))
			if !strings.HasPrefix(status, "2") {
				rejected = true
			}
		}
	}
	if rejected {
		return errRejected
	}
	return nil
}

// deliver signs body for v at send time and POSTs it; it returns the
// status line, the answer's body (first 64 KiB) and the time taken.
func deliver(ctx context.Context, client *http.Client, v *vendor, secret, target, id string, body []byte) (string, []byte, time.Duration, error) {
	h, err := v.sign(secret, id, body, time.Now())
	if err != nil {
		return "", nil, 0, usageErrorf("cannot sign as %s (check -secret and -id): %v", v.title, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", nil, 0, usageErrorf("-url: %v", err)
	}
	req.Header = h
	req.Header.Set("User-Agent", "callcrm (callcrm-go; "+v.title+" webhook simulation)")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, 0, &ioError{err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	took := time.Since(start)
	if err != nil {
		return "", nil, 0, &ioError{fmt.Errorf("reading the answer: %w", err)}
	}
	return resp.Status, answer, took, nil
}

func answerText(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "(empty)"
	}
	return strings.ReplaceAll(s, "\n", "\n          ")
}

func listEvents(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range vendorNames() {
		v := vendors[name]
		for _, ev := range v.events {
			if ev.note == "" {
				fmt.Fprintf(tw, "%s\t%s\n", v.name, ev.name)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", v.name, ev.name, ev.note)
		}
	}
	return tw.Flush()
}
