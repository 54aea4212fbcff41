package testkit

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Listen returns a loopback listener on a free port; it fails t when none
// can be opened.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// CheckClosed fails t for each of ls that still accepts a connection.
func CheckClosed(t testing.TB, ls ...net.Listener) {
	t.Helper()
	for _, l := range ls {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Close", l.Addr())
		}
	}
}

// CheckInvalidOption fails t unless err matches sentinel and its text
// contains want (an option's name, "option 1 is nil"); what names the
// call in the message.
func CheckInvalidOption(t testing.TB, what string, err, sentinel error, want string) {
	t.Helper()
	if !errors.Is(err, sentinel) || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: err = %v, want %v naming %q", what, err, sentinel, want)
	}
}

// FirstRead wraps l; the channel closes once a connection l accepted has
// read bytes (a request reached the server), so a test can act at that
// moment without sleeping.
func FirstRead(l net.Listener) (net.Listener, <-chan struct{}) {
	fr := &firstRead{Listener: l, read: make(chan struct{})}
	return fr, fr.read
}

type firstRead struct {
	net.Listener
	once sync.Once
	read chan struct{}
}

func (l *firstRead) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &firstReadConn{Conn: c, l: l}, nil
}

type firstReadConn struct {
	net.Conn
	l *firstRead
}

func (c *firstReadConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.l.once.Do(func() { close(c.l.read) })
	}
	return n, err
}

// AbandonedCallEnds runs call with a context it cancels once the server
// has read the request (read from FirstRead), and fails t unless call
// then fails and closeServer returns within 10 s: a fake whose latency
// outlives its client keeps Close (and the test) waiting.
func AbandonedCallEnds(t testing.TB, read <-chan struct{}, call func(context.Context) error, closeServer func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	<-read
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the call succeeded with its context cancelled")
	}
	closed := make(chan struct{})
	go func() { closeServer(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a deadline for a hang, not a wait
		t.Fatal("Close waited out the latency of a request its client abandoned")
	}
}

// Get is a call for AbandonedCallEnds: GET url.
func Get(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
}
