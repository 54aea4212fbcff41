package benchkit

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
)

// Vendor is one vendor's BenchmarkReceive, as its bench_test.go describes
// it to the shared runner: how to build and sign the n-th delivery, what
// the hand-written baseline checks, and how to build our receiver.
type Vendor struct {
	// Body is the delivery template; ID, a JSON string in it, is replaced
	// by Prefix and the delivery's number, so each delivery has its own id.
	Body       []byte
	ID, Prefix string
	// Sign returns the signed headers of the n-th delivery.
	Sign func(n int64, body []byte) http.Header
	// Check is the hand-written baseline's vendor work (see Handwritten).
	Check Check
	// Handler builds our receiver, with its callback.
	Handler func() (Receiver, error)
}

// Receiver is what a vendor's NewHandler returns.
type Receiver interface {
	http.Handler
	Shutdown(ctx context.Context) error
}

// Run runs the two sub-benchmarks every vendor has: "handwritten" (the
// careful hand-written handler, Handwritten with v.Check) and "handler"
// (ours, v.Handler), one loopback delivery per iteration.
func (v Vendor) Run(b *testing.B) {
	b.Run("handwritten", func(b *testing.B) { v.Serve(b, Handwritten(v.Check)) })
	v.Receiver(b, "handler", v.Handler)
}

// Receiver runs sub-benchmark name on the receiver build returns
// (ServeNew).
func (v Vendor) Receiver(b *testing.B, name string, build func() (Receiver, error)) {
	b.Run(name, func(b *testing.B) { v.ServeNew(b, build) })
}

// ServeNew serves the vendor's deliveries to the receiver build returns,
// and shuts it down after.
func (v Vendor) ServeNew(b *testing.B, build func() (Receiver, error)) {
	h, err := build()
	if err != nil {
		b.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	v.Serve(b, h)
}

// Serve sends h the vendor's deliveries over loopback (Receive).
func (v Vendor) Serve(b *testing.B, h http.Handler) {
	Receive(b, h, len(v.Body), func(n int64) ([]byte, http.Header) {
		body := Renumber(v.Body, v.ID, v.Prefix, n)
		return body, v.Sign(n, body)
	})
}

// Check is a hand-written baseline's vendor work for one delivery, given
// its bounded body: verify the signature and decode and check the event.
// It answers the status of a refused delivery (401, 400), or 0 with the
// key the delivery is deduplicated on and the callback that processes
// the decoded event.
type Check func(r *http.Request, body []byte) (key string, callback func(context.Context) error, status int)

// MaxBody bounds what a hand-written baseline handler reads.
const MaxBody = 1 << 20

// Handwritten returns a careful hand-written baseline handler, what a
// developer would write without this module: it reads the body bounded
// by MaxBody (400 past it or on a read error), runs check, and then
// processes each key once with an in-memory map (200 without running
// the callback again for a key done, 409 for a key in progress; a failed
// callback, 500, does not mark it done).
func Handwritten(check Check) http.Handler {
	var mu sync.Mutex
	done := map[string]bool{} // false: in progress
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil || len(body) > MaxBody {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		key, callback, status := check(r, body)
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		mu.Lock()
		finished, seen := done[key]
		if !seen {
			done[key] = false
		}
		mu.Unlock()
		switch {
		case finished:
			w.WriteHeader(http.StatusOK)
			return
		case seen:
			w.WriteHeader(http.StatusConflict)
			return
		}
		err = callback(r.Context())
		mu.Lock()
		if err != nil {
			delete(done, key)
		} else {
			done[key] = true
		}
		mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// Callback is the work of every receive benchmark's callback, ours and
// the hand-written one's: the decoded event must carry the id the vendor
// documents (io.ErrUnexpectedEOF, a 500, when it does not).
func Callback(id string) error {
	if id == "" {
		return io.ErrUnexpectedEOF
	}
	return nil
}
