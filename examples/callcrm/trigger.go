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
	t, pos, err := parseTriggerFlags(e, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "list" {
		return listEvents(e.stdout)
	}
	if err := t.resolve(e, pos); err != nil {
		return err
	}
	msgs, err := t.messages(time.Now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return err
	}
	if t.outOfOrder {
		slices.Reverse(msgs)
		fmt.Fprintf(e.stdout, "%s emits %s; sending them in reverse order.\n", t.v.title, strings.Join(t.seq, " then "))
	}
	return t.send(ctx, e.stdout, msgs)
}

// trigger is one "callcrm trigger" run: its flags as given, then (after
// resolve) the vendor, the secret, the overrides and the events to send.
type trigger struct {
	// Flags.
	target, secretArg, id string
	sets                  multiFlag
	repeat                int
	outOfOrder            bool
	timeout               time.Duration

	// Resolved from the arguments and flags.
	v         *vendor
	secret    string
	overrides []override
	seq       []string // the events to send, in emission order
}

// override is one -set path=value, the value parsed.
type override struct {
	path string
	val  any
}

// message is one event's signed-to-be body under its message id.
type message struct {
	event, id string
	body      []byte
}

// parseTriggerFlags parses trigger's flags and returns its positional
// arguments.
func parseTriggerFlags(e *env, args []string) (*trigger, []string, error) {
	t := &trigger{}
	fs := newFlags(e, "trigger VENDOR EVENT -url URL -secret S [flags]  |  trigger list", triggerHelp)
	fs.StringVar(&t.target, "url", "", "your endpoint, e.g. http://127.0.0.1:8080/webhooks/siro (required)")
	fs.StringVar(&t.secretArg, "secret", "", "the vendor's signing secret (default $CALLCRM_SECRET)")
	fs.Var(&t.sets, "set", "override a field: path=value (repeatable)")
	fs.StringVar(&t.id, "id", "", "message id (default: a new one in the vendor's style)")
	fs.IntVar(&t.repeat, "repeat", 0, "resend the same message `N` more times, as the vendor retries")
	fs.BoolVar(&t.outOfOrder, "out-of-order", false, "send the related events up to EVENT in reverse order")
	fs.DurationVar(&t.timeout, "timeout", 15*time.Second, "per-request timeout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	return t, pos, nil
}

// resolve checks VENDOR EVENT (pos) and the flags, in the order the user
// reads them, and fills in what the run sends.
func (t *trigger) resolve(e *env, pos []string) error {
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
	t.v = v
	if err := checkTarget(t.target); err != nil {
		return err
	}
	if t.secret, err = secretFlag(e, t.secretArg); err != nil {
		return err
	}
	if t.repeat < 0 {
		return usageErrorf("-repeat must be 0 or more")
	}
	if t.overrides, err = parseOverrides(t.sets); err != nil {
		return err
	}
	t.seq = []string{ev}
	if t.outOfOrder {
		if t.seq = v.sequence(ev); len(t.seq) < 2 {
			return usageErrorf("%s emits no related events before %s: -out-of-order has nothing to reorder", v.title, ev)
		}
	}
	return nil
}

// checkTarget checks -url is given and is an http(s) URL.
func checkTarget(target string) error {
	if target == "" {
		return usageErrorf("-url is required")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("-url %q is not an http(s) URL", target)
	}
	return nil
}

// parseOverrides parses each -set path=value.
func parseOverrides(sets []string) ([]override, error) {
	var overrides []override
	for _, s := range sets {
		path, val, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, usageErrorf("-set %q: want path=value", s)
		}
		overrides = append(overrides, override{path, parseValue(val)})
	}
	return overrides, nil
}

// messages builds the body of each event of t.seq at now, with its
// message id and the -set overrides applied.
func (t *trigger) messages(now time.Time) ([]message, error) {
	msgs := make([]message, len(t.seq))
	for i, name := range t.seq {
		mid := t.messageID(i)
		o, err := t.v.build(name, mid, i, len(t.seq), now)
		if err != nil {
			return nil, err
		}
		for _, ov := range t.overrides {
			if err := setPath(o, ov.path, ov.val); err != nil {
				return nil, usageErrorf("-set %s: %v", ov.path, err)
			}
		}
		body, err := marshal(o)
		if err != nil {
			return nil, err
		}
		msgs[i] = message{event: name, id: mid, body: body}
	}
	return msgs, nil
}

// messageID is the id of the i-th event sent: a new one in the vendor's
// style without -id; -id itself for one event, -id-N in a sequence.
func (t *trigger) messageID(i int) string {
	switch {
	case t.id == "":
		return t.v.newID()
	case len(t.seq) > 1:
		return t.id + "-" + strconv.Itoa(i+1)
	}
	return t.id
}

// send delivers each message 1+repeat times and prints every answer; it
// returns errRejected when any answer was not 2xx.
func (t *trigger) send(ctx context.Context, w io.Writer, msgs []message) error {
	client := &http.Client{Timeout: t.timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // vendors do not follow redirects
	}}
	rejected := false
	for _, m := range msgs {
		for attempt := 0; attempt <= t.repeat; attempt++ {
			ok, err := t.sendOnce(ctx, w, client, m, attempt)
			if err != nil {
				return err
			}
			if !ok {
				rejected = true
			}
		}
	}
	if rejected {
		return errRejected
	}
	return nil
}

// sendOnce delivers m (attempt 0 is the first delivery, the others
// resends), prints the answer and reports whether it was 2xx.
func (t *trigger) sendOnce(ctx context.Context, w io.Writer, client *http.Client, m message, attempt int) (bool, error) {
	label := fmt.Sprintf("%s %s id=%s", t.v.name, m.event, m.id)
	if attempt == 1 {
		fmt.Fprintf(w, "resending as %s retries: %s\n", t.v.title, strings.TrimPrefix(t.v.retry, t.v.title+" "))
	}
	if attempt > 0 {
		label += fmt.Sprintf(" (resend %d of %d)", attempt, t.repeat)
	}
	status, answer, took, err := deliver(ctx, client, t.v, t.secret, t.target, m.id, m.body)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "%s\n  status: %s\n  time:   %s\n  body:   %s\n", label, status, took.Round(10*time.Microsecond), answerText(answer))
	return strings.HasPrefix(status, "2"), nil
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
