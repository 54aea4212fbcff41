package rivertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
)

const secret = "whsec_sivo-signing-secret-4f1c2d"

// inbox is what the test needs of a riverinbox.Inbox on either database.
type inbox interface {
	webhook.Inbox
	Migrate(ctx context.Context) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Counts(ctx context.Context) (riverinbox.Counts, error)
}

func sqliteInbox(t *testing.T, opts ...riverinbox.Option) inbox {
	db, err := sql.Open("sqlite", riverinbox.SQLiteDSN(filepath.Join(t.TempDir(), "inbox.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	in, err := riverinbox.NewSQLite(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

var schemaSeq atomic.Int64

// postgresInbox uses CALLCRM_TEST_POSTGRES, in a schema of its own.
func postgresInbox(t *testing.T, opts ...riverinbox.Option) inbox {
	dsn := sqldbtest.PostgresDSN(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("otel_trace_%d_%d", os.Getpid(), schemaSeq.Add(1))
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		pool.Close()
	})
	in, err := riverinbox.NewPgx(pool, append([]riverinbox.Option{riverinbox.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// One SIVO delivery through the River inbox is one trace: the request's
// server span, its enqueue span, the job's consumer span continuing the
// stored traceparent, and the callback under the job.
func TestRiverInboxDeliveryIsOneTrace(t *testing.T) {
	for name, newInbox := range map[string]func(*testing.T, ...riverinbox.Option) inbox{
		"sqlite": sqliteInbox, "postgres": postgresInbox,
	} {
		t.Run(name, func(t *testing.T) {
			sdk := oteltest.New(t)
			var in inbox
			obs, err := otelcallcrm.New(otelcallcrm.WithTracerProvider(sdk.TP), otelcallcrm.WithMeterProvider(sdk.MP),
				otelcallcrm.WithInboxDepth(func(ctx context.Context) (int64, error) {
					c, err := in.Counts(ctx)
					return c.Pending + c.Retrying, err
				}))
			if err != nil {
				t.Fatal(err)
			}
			in = newInbox(t, riverinbox.WithObserver(obs), riverinbox.WithPollInterval(50*time.Millisecond))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := in.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			called := make(chan struct{}, 1)
			h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
				CallEnded: func(context.Context, *sivo.Event, *sivo.CallEnded) error {
					called <- struct{}{}
					return nil
				},
			}, webhook.WithObserver(obs), webhook.WithInbox(in))
			if err != nil {
				t.Fatal(err)
			}
			sender, err := sivotest.NewSender(secret)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := sivotest.CallEnded("evt_river_1", time.Now(), sivo.CallEnded{CallID: "call_1"})
			if err != nil {
				t.Fatal(err)
			}
			if status := sender.Serve(h, ev.Raw); status/100 != 2 {
				t.Fatalf("delivery answered %d", status)
			}
			// Stored, not yet worked: the depth gauge reads the inbox.
			if got := oteltest.Gauge(t, sdk.Reader, otelcallcrm.MetricInboxDepth); got != 1 {
				t.Errorf("inbox depth before the workers start = %v, want 1", got)
			}
			if err := in.Start(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case <-called:
			case <-ctx.Done():
				t.Fatal("the job never ran the callback")
			}
			// Stop waits for the running job: its span has ended after it.
			if err := in.Stop(ctx); err != nil {
				t.Fatal(err)
			}

			byName := map[string][]sdktrace.ReadOnlySpan{}
			for _, s := range sdk.Ended() {
				byName[s.Name()] = append(byName[s.Name()], s)
			}
			one := func(name string) sdktrace.ReadOnlySpan {
				if len(byName[name]) != 1 {
					t.Fatalf("%d spans named %q, want 1 (spans: %s)", len(byName[name]), name, oteltest.SpanNames(sdk.Ended()))
				}
				return byName[name][0]
			}
			req, enqueue, job, callback := one("webhook receive sivo"), one("webhook enqueue"), one("webhook job sivo"), one("webhook callback")
			if req.SpanKind() != trace.SpanKindServer || job.SpanKind() != trace.SpanKindConsumer {
				t.Errorf("kinds: request %v, job %v", req.SpanKind(), job.SpanKind())
			}
			for _, pc := range [][2]sdktrace.ReadOnlySpan{{enqueue, req}, {job, enqueue}, {callback, job}} {
				if pc[0].Parent().SpanID() != pc[1].SpanContext().SpanID() {
					t.Errorf("%q's parent is %s, want %q (%s)", pc[0].Name(), pc[0].Parent().SpanID(), pc[1].Name(), pc[1].SpanContext().SpanID())
				}
			}
			for _, s := range sdk.Ended() {
				if s.SpanContext().TraceID() != req.SpanContext().TraceID() {
					t.Errorf("span %q is in trace %s, not the request's %s", s.Name(), s.SpanContext().TraceID(), req.SpanContext().TraceID())
				}
			}
			sdk.AssertNoSecret(t, secret)

			if got := oteltest.Gauge(t, sdk.Reader, otelcallcrm.MetricInboxDepth); got != 0 {
				t.Errorf("inbox depth after the job = %v, want 0", got)
			}
			rm := sdk.Collect(t)
			oteltest.WantSum(t, rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.outcome": "processed"}, 1)
			oteltest.WantSum(t, rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "enqueued"}, 1)
		})
	}
}
