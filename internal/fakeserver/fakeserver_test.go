package fakeserver

import (
	"io"
	"net"
	"net/http"
	"testing"
)

func TestStartOnGivenListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := Start(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), l)
	if ts.Listener.Addr().String() != l.Addr().String() {
		t.Fatalf("served on %s, want %s", ts.Listener.Addr(), l.Addr())
	}
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Close()
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Fatal("Close left the given listener open")
	}
}

func TestStartOnLoopback(t *testing.T) {
	ts := Start(http.NotFoundHandler(), nil)
	defer ts.Close()
	if host, _, _ := net.SplitHostPort(ts.Listener.Addr().String()); !net.ParseIP(host).IsLoopback() {
		t.Fatalf("listening on %s, not loopback", host)
	}
}
