package sivotest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

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
