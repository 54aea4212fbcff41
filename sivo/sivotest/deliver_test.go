package sivotest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestDeliverDoesNotFollowRedirects: SIVO's webhooks page (vendor/004,
// "Limits") says "No redirects — SIVO doesn't follow 3xx." A fake sender
// that follows a 307 to a handler answering 200 tells a test the event
// was delivered where SIVO would count a failure and retry. It must hold
// with the caller's own Client too (an HTTPS test server's).
func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/webhooks/sivo", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/webhooks/sivo", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	ev, snd := callEndedAndSender(t, at)
	snd.Client = srv.Client()
	code, err := snd.Deliver(context.Background(), srv.URL+"/moved", ev.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusTemporaryRedirect || followed.Load() != 0 {
		t.Errorf("Deliver answered %d after %d followed redirects; SIVO doesn't follow 3xx: want 307, none followed", code, followed.Load())
	}
}

// callEndedAndSender returns a call.ended event sent at at and a SIVO
// Sender for the secret "s3cret".
func callEndedAndSender(t *testing.T, at time.Time) (*sivo.Event, *webhooktest.Sender) {
	t.Helper()
	ev, err := sivotest.CallEnded("evt_1", at, sivo.CallEnded{CallID: "call-1"})
	if err != nil {
		t.Fatal(err)
	}
	snd, err := sivotest.NewSender("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	return ev, snd
}

// pipeListener is an in-memory network for a synctest bubble: each dial
// is one net.Pipe, its server end handed to Accept.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestDeliverTimesOutAfterTenSeconds: SIVO's webhooks page (vendor/004,
// "Limits") says "Timeout: 10 seconds. If your endpoint is slower, it
// counts as failure." A fake sender that waits for a receiver answering
// 200 after a minute reports a delivery SIVO counts as failed (and
// retries).
func TestDeliverTimesOutAfterTenSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newPipeListener()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // the server notices a client that left once the body is read
			select {
			case <-time.After(time.Minute):
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusOK)
		})}
		go func() { _ = srv.Serve(ln) }()
		tr := &http.Transport{DialContext: ln.dial}
		defer func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
			synctest.Wait()
		}()

		ev, snd := callEndedAndSender(t, at)
		snd.Client = &http.Client{Transport: tr}
		start := time.Now()
		code, err := snd.Deliver(context.Background(), "http://receiver.test/webhooks/sivo", ev.Raw)
		if elapsed := time.Since(start); err == nil || !errors.Is(err, context.DeadlineExceeded) || elapsed != 10*time.Second {
			t.Errorf("Deliver = %d, %v after %v; want a deadline error after SIVO's 10 s timeout", code, err, elapsed)
		}
	})
}
