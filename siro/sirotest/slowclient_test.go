package sirotest_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestSlowReaderDoesNotStallTheFake: a client that reads a large answer
// slowly (a poller decoding a page as a stream and calling the fake for
// each recording, or one stuck mid-read) must not stop every other
// request. The recordings list used to release the fake's lock before
// writing its answer; written under the lock, the answer's TCP write
// blocks while the reader is stalled and every other request waits for
// the lock behind it.
func TestSlowReaderDoesNotStallTheFake(t *testing.T) {
	ctx := context.Background()
	fake := sirotest.New()
	t.Cleanup(fake.Close)
	c, err := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit"})
	if err != nil {
		t.Fatal(err)
	}
	// An answer far larger than the loopback socket buffers.
	big := strings.Repeat("x", 32<<20)
	if _, err := fake.Record("appt-1", sirotest.Conversation{Processed: true,
		Summary: []siro.SummarySection{{ID: "s1", Name: "Overview", Content: big}}}); err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(fake.Org.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // runs before fake.Close: unblocks the writer
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /api-externalApi/v1/core/recordings?showSummary=true HTTP/1.1\r\nHost: siro\r\nAuthorization: Bearer %s\r\n\r\n", fake.OrgToken)
	// Read the status line: the handler is writing its answer. Then stall.
	status, err := bufio.NewReaderSize(conn, 16).ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("status %q: %v", status, err)
	}

	// Any other request must still be answered. The deadline only turns
	// a hang into a failure; a fake that does not stall answers at once.
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.GetEngagement(ctx2, e.ID); err != nil {
		t.Fatalf("another request while a client reads slowly: %v", err)
	}
}
