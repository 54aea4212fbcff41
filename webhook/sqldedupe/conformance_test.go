package sqldedupe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// acme is a receiver a user builds with webhook.NewReceiver for a sender
// this module does not know: HMAC-signed JSON {id, type, created}. The
// suite runs on it like on a vendor package.
const acmeSecret = "acme-conformance-secret"

type acmeEvent struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
}

func acmeSpec(t testing.TB, event func(ctx context.Context, id string) error, unknown webhook.HandlerFunc) webhook.Spec[any] {
	v, err := webhook.NewHMAC("X-Acme-Signature", "sha256=", acmeSecret)
	if err != nil {
		t.Fatal(err)
	}
	return webhook.Spec[any]{
		Provider: "acme",
		Verifier: v,
		Parse: func(ev *webhook.Event) (any, error) {
			var a acmeEvent
			if err := json.Unmarshal(ev.Raw, &a); err != nil {
				return nil, fmt.Errorf("acme: %w", err)
			}
			ev.ID, ev.Type = a.ID, a.Type
			return &a, nil
		},
		Time: func(parsed any) (time.Time, bool) {
			a := parsed.(*acmeEvent)
			return a.Created, !a.Created.IsZero()
		},
		Handle: func(ctx context.Context, ev *webhook.Event, parsed any, _ webhook.Once) error {
			if ev.Type == "thing.happened" {
				return event(ctx, parsed.(*acmeEvent).ID)
			}
			if unknown != nil {
				return unknown(ctx, ev)
			}
			return nil
		},
	}
}

func acmeBody(clk webhook.Clock, id, typ string) []byte {
	b, _ := json.Marshal(acmeEvent{ID: id, Type: typ, Created: clk.Now().UTC()})
	return b
}

func acmeSign(body []byte) http.Header {
	s, _ := webhook.NewHMACSigner("X-Acme-Signature", "sha256=", acmeSecret)
	h := http.Header{"Content-Type": {"application/json"}}
	_ = s.SignHeader(h, body)
	return h
}

// replicas returns two Stores on one table through two *sql.DB: two
// replicas of a service sharing PostgreSQL.
func replicas(t testing.TB, opts ...Option) (*Store, *Store) {
	return replicasOn(t, sqldbtest.Postgres(t), opts...)
}

// replicasOn returns two Stores on one table of b through two *sql.DB.
func replicasOn(t testing.TB, b sqldbtest.Backend, opts ...Option) (*Store, *Store) {
	a := newStore(t, b.Open(t), opts...)
	r, err := New(b.Open(t), append(opts, WithTable(a.table))...)
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

// storesOn returns the suite's Stores hook on b: two replicas whose
// database clock moves with the suite's fake clock.
func storesOn(b sqldbtest.Backend) func(t testing.TB, clk webhook.Clock, lease time.Duration) (webhook.Deduper, webhook.Deduper) {
	return func(t testing.TB, clk webhook.Clock, lease time.Duration) (webhook.Deduper, webhook.Deduper) {
		x, y := replicasOn(t, b, WithClock(clk), WithLease(lease), WithTTL(24*time.Hour))
		followClock(clk, x, y)
		return x, y
	}
}

// TestConformance runs the webhook conformance suite with SQLite and with
// PostgreSQL behind two replicas (two Stores, two connection pools, one
// table), on a user-built receiver and on the generic Middleware.
func TestConformance(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", func(t *testing.T, b sqldbtest.Backend) { conformance(t, storesOn(b)) })
}

func conformance(t *testing.T, pgStores func(testing.TB, webhook.Clock, time.Duration) (webhook.Deduper, webhook.Deduper)) {
	t.Run("Receiver", func(t *testing.T) {
		clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
		webhooktest.Conformance(t, webhooktest.Subject{
			New: func(b webhooktest.Behaviour, opts ...webhook.Option) (http.Handler, error) {
				return webhook.NewReceiver(acmeSpec(t, b.Event, b.Unknown), opts...)
			},
			Middleware: func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
				r, err := webhook.NewReceiver(acmeSpec(t, func(context.Context, string) error { return nil }, nil), opts...)
				if err != nil {
					return nil, err
				}
				return r.Wrap, nil
			},
			Sign:        acmeSign,
			Body:        func(id string) []byte { return acmeBody(clk, id, "thing.happened") },
			Unknown:     func(id string) []byte { return acmeBody(clk, id, "thing.teleported") },
			Clock:       clk,
			Timestamped: true,
			Secret:      acmeSecret,
			Stores:      pgStores,
		})
	})
	t.Run("Middleware", func(t *testing.T) {
		s, err := webhooktest.MiddlewareSubject("X-Acme-Signature", "sha256=", acmeSecret)
		if err != nil {
			t.Fatal(err)
		}
		s.Stores = pgStores
		webhooktest.Conformance(t, s)
	})
}
