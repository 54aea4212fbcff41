package riverinbox

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type traceKey struct{}

// recordingObserver is a real webhook.Observer that keeps what it saw
// (the OTel adapter lives in its own module; this one has no deps).
type recordingObserver struct {
	mu   sync.Mutex
	seen []string // "start job <id> attempt=<n> trace=<parent>", "end <outcome>"
	done chan webhook.Outcome
}

func (o *recordingObserver) Start(ctx context.Context, stage webhook.Stage, ob webhook.Observation) (context.Context, func(webhook.Result)) {
	parent, _ := ctx.Value(traceKey{}).(string)
	o.mu.Lock()
	o.seen = append(o.seen, string(stage)+" "+ob.DeliveryID+" parent="+parent)
	o.mu.Unlock()
	return context.WithValue(ctx, traceKey{}, "span-of-"+ob.DeliveryID), func(r webhook.Result) { o.done <- r.Outcome }
}

func (o *recordingObserver) Inject(ctx context.Context) map[string]string { return nil }

func (o *recordingObserver) Extract(ctx context.Context, c map[string]string) context.Context {
	return context.WithValue(ctx, traceKey{}, c["traceparent"])
}

// The job continues the request's trace (Event.Trace, stored with the
// job) and reports StageJob with its attempt and outcome: processed,
// retried, dead-lettered; the callback runs under the job's context.
func TestObserverJobStage(t *testing.T) {
	db := newTestDBKind(t, kindSQLite) // the hook is driver-independent
	obs := &recordingObserver{done: make(chan webhook.Outcome, 8)}
	in := db.newInbox(t, WithObserver(obs), WithMaxAttempts(2))
	var callbackParent sync.Map
	require.NoError(t, in.Register("sivo/default", func(ctx context.Context, ev *webhook.Event) error {
		p, _ := ctx.Value(traceKey{}).(string)
		callbackParent.Store(ev.ID, p)
		if ev.ID == "fails" {
			return errors.New("CRM down")
		}
		return nil
	}))
	ctx := context.Background()
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "ok", Raw: []byte("{}"), Trace: map[string]string{"traceparent": tp}}))
	require.NoError(t, in.Enqueue(ctx, &webhook.Event{Provider: "sivo", Receiver: "default", ID: "fails", Raw: []byte("{}")}))
	startInbox(t, in)
	var outcomes []webhook.Outcome
	for range 3 { // ok once; fails twice (retried after River's ~1 s backoff, then dead)
		select {
		case o := <-obs.done:
			outcomes = append(outcomes, o)
		case <-time.After(30 * time.Second):
			t.Fatalf("outcomes so far: %v", outcomes)
		}
	}
	assert.ElementsMatch(t, []webhook.Outcome{webhook.OutcomeProcessed, webhook.OutcomeRetried, webhook.OutcomeDeadLettered}, outcomes)
	obs.mu.Lock()
	assert.Contains(t, obs.seen, "job ok parent="+tp, "the job continues the stored trace")
	obs.mu.Unlock()
	p, _ := callbackParent.Load("ok")
	assert.Equal(t, "span-of-ok", p, "the callback runs under the job's span")
}
