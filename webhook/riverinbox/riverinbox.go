package riverinbox

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Kind is the River job kind of every stored delivery (filter JobList on
// it to see only webhook deliveries).
const Kind = "callcrm_webhook_delivery"

// DefaultQueue is the River queue deliveries go to unless WithQueue names
// another.
const DefaultQueue = "callcrm_webhooks"

// DeliveryArgs is one stored delivery: the River job's arguments. River
// keeps them as JSON in river_job.args; Raw is base64 there, so the exact
// verified bytes survive. Provider, Receiver and ID make the job unique.
type DeliveryArgs struct {
	// Provider is the vendor ("sivo", "siro", ...).
	Provider string `json:"provider" river:"unique"`
	// Receiver is the receiver's name (webhook.WithName; "default").
	Receiver string `json:"receiver" river:"unique"`
	// ID is the vendor's delivery key.
	ID string `json:"id" river:"unique"`
	// Type is the vendor's event type.
	Type string `json:"type,omitempty"`
	// Raw is the verified body.
	Raw []byte `json:"raw"`
	// Header holds the request headers the vendor's parser reads.
	Header http.Header `json:"header,omitempty"`
	// Delivery is what signature verification established.
	Delivery webhook.Delivery `json:"delivery"`
	// ReceivedAt is when the receiver read the delivery.
	ReceivedAt time.Time `json:"received_at"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return Kind }

// Event rebuilds the webhook.Event the receiver stored.
func (a DeliveryArgs) Event() *webhook.Event {
	return &webhook.Event{Provider: a.Provider, Receiver: a.Receiver, ID: a.ID, Type: a.Type, Raw: a.Raw,
		Header: a.Header, Delivery: a.Delivery, ReceivedAt: a.ReceivedAt}
}

type config struct {
	schema      string
	queue       string
	workers     int
	maxAttempts int
	jobTimeout  time.Duration
	rescueAfter time.Duration
	retention   time.Duration
	discarded   time.Duration
	logger      *slog.Logger
	pollEvery   time.Duration
}

// Option configures an Inbox (and Migrate, which reads WithSchema and
// WithLogger).
type Option func(*config) error

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// WithSchema puts River's tables in a PostgreSQL schema other than the
// connection's search_path (River's Config.Schema). Pass the same option
// to Migrate.
func WithSchema(name string) Option {
	return func(c *config) error {
		if !identRe.MatchString(name) {
			return fmt.Errorf("%w: riverinbox.WithSchema: %q is not a plain SQL identifier", webhook.ErrInvalidOption, name)
		}
		c.schema = name
		return nil
	}
}

var queueRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,127}$`)

// WithQueue sets the River queue deliveries are inserted into and worked
// from (default DefaultQueue).
func WithQueue(name string) Option {
	return func(c *config) error {
		if !queueRe.MatchString(name) {
			return fmt.Errorf("%w: riverinbox.WithQueue: %q is not a valid River queue name (lower case letters, digits, _ and -)", webhook.ErrInvalidOption, name)
		}
		c.queue = name
		return nil
	}
}

// WithWorkers sets how many deliveries one replica processes at once
// (default 10). Each callback that uses Tx holds one pool connection while
// it runs: size the pool above this.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n <= 0 || n > 10000 {
			return fmt.Errorf("%w: riverinbox.WithWorkers: %d must be between 1 and 10000", webhook.ErrInvalidOption, n)
		}
		c.workers = n
		return nil
	}
}

// WithMaxAttempts sets how many times a delivery's callback is tried
// before the job is discarded, the dead letter (default 25, River's
// default: about three weeks of backoff).
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("%w: riverinbox.WithMaxAttempts: %d must be positive", webhook.ErrInvalidOption, n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithJobTimeout bounds each callback (default 1 minute); its context is
// cancelled at the deadline and the attempt counts as failed.
func WithJobTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: riverinbox.WithJobTimeout: %v must be positive", webhook.ErrInvalidOption, d)
		}
		c.jobTimeout = d
		return nil
	}
}

// WithRescueAfter sets how long a job may stay running before River
// considers its worker dead (a crashed replica) and retries it elsewhere
// (default: job timeout + 4 minutes). It must exceed the job timeout; a
// callback still running then is run a second time.
func WithRescueAfter(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: riverinbox.WithRescueAfter: %v must be positive", webhook.ErrInvalidOption, d)
		}
		c.rescueAfter = d
		return nil
	}
}

// WithRetention sets how long completed deliveries are kept (default 72
// hours). While a completed job is kept, a redelivery of the same key
// enqueues nothing: keep it longer than the vendor's retry span.
func WithRetention(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: riverinbox.WithRetention: %v must be positive", webhook.ErrInvalidOption, d)
		}
		c.retention = d
		return nil
	}
}

// WithDeadLetterRetention sets how long discarded deliveries (the dead
// letter) are kept before River's cleaner deletes them (default 30 days).
func WithDeadLetterRetention(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: riverinbox.WithDeadLetterRetention: %v must be positive", webhook.ErrInvalidOption, d)
		}
		c.discarded = d
		return nil
	}
}

// WithLogger logs failed deliveries (no bodies) and River's own messages.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithPollInterval sets how often workers look for jobs when PostgreSQL's
// LISTEN/NOTIFY is not delivering (default 1 s, River's).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return fmt.Errorf("%w: riverinbox.WithPollInterval: %v is under 10ms", webhook.ErrInvalidOption, d)
		}
		c.pollEvery = d
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	c := config{queue: DefaultQueue, workers: 10, maxAttempts: river.MaxAttemptsDefault, jobTimeout: time.Minute,
		retention: 72 * time.Hour, discarded: 30 * 24 * time.Hour}
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("%w: riverinbox: nil option", webhook.ErrInvalidOption)
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	if c.rescueAfter == 0 {
		c.rescueAfter = c.jobTimeout + 4*time.Minute
	}
	if c.rescueAfter <= c.jobTimeout {
		return c, fmt.Errorf("%w: riverinbox.WithRescueAfter: %v must exceed the job timeout %v", webhook.ErrInvalidOption, c.rescueAfter, c.jobTimeout)
	}
	return c, nil
}

// Inbox is a webhook.Inbox on River: deliveries are River jobs in
// PostgreSQL, worked by every replica that started its Inbox. Safe for
// concurrent use.
type Inbox struct {
	pool   *pgxpool.Pool
	cfg    config
	client *river.Client[pgx.Tx]

	mu        sync.RWMutex
	receivers map[string]func(context.Context, *webhook.Event) error
}

// New returns an Inbox storing deliveries in pool's database. Run Migrate
// first. Pass it to every receiver with webhook.WithInbox, then call Start
// so this replica works deliveries too (an Inbox that is never started
// only enqueues; other replicas work the jobs).
func New(pool *pgxpool.Pool, opts ...Option) (*Inbox, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: riverinbox.New: nil pool", webhook.ErrInvalidOption)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	in := &Inbox{pool: pool, cfg: cfg, receivers: map[string]func(context.Context, *webhook.Event) error{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{in: in}); err != nil {
		return nil, fmt.Errorf("riverinbox: %w", err)
	}
	rc := &river.Config{
		Schema:                      cfg.schema,
		Queues:                      map[string]river.QueueConfig{cfg.queue: {MaxWorkers: cfg.workers}},
		Workers:                     workers,
		MaxAttempts:                 cfg.maxAttempts,
		JobTimeout:                  cfg.jobTimeout,
		RescueStuckJobsAfter:        cfg.rescueAfter,
		CompletedJobRetentionPeriod: cfg.retention,
		DiscardedJobRetentionPeriod: cfg.discarded,
		FetchPollInterval:           cfg.pollEvery,
		FetchCooldown:               min(cfg.pollEvery, river.FetchCooldownDefault),
		Logger:                      cfg.logger,
		ErrorHandler:                &errorHandler{log: cfg.logger},
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("%w: riverinbox.New: %w", webhook.ErrInvalidOption, err)
	}
	in.client = client
	return in, nil
}

// Client returns the River client, for the dead letter and operations:
// JobList with States(rivertype.JobStateDiscarded) and Kinds(Kind),
// JobRetry, JobCancel, queue pauses.
func (in *Inbox) Client() *river.Client[pgx.Tx] { return in.client }

// Register implements webhook.Inbox. Every replica must register the same
// receivers: a job for a receiver this replica does not know fails and is
// retried (with backoff) until a replica that knows it takes it.
func (in *Inbox) Register(receiver string, process func(context.Context, *webhook.Event) error) error {
	if process == nil {
		return fmt.Errorf("%w: riverinbox.Register %q: nil process func", webhook.ErrInvalidOption, receiver)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, dup := in.receivers[receiver]; dup {
		return fmt.Errorf("%w: riverinbox: receiver %q registered twice (use webhook.WithName to tell two endpoints apart)", webhook.ErrInvalidOption, receiver)
	}
	in.receivers[receiver] = process
	return nil
}

func (in *Inbox) lookup(receiver string) func(context.Context, *webhook.Event) error {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.receivers[receiver]
}

// Enqueue implements webhook.Inbox: it inserts one job and returns once
// the insert committed. A delivery whose key is already pending, running,
// retrying or completed (within WithRetention) inserts nothing and returns
// an error wrapping webhook.ErrDuplicate, which receivers answer 2xx. Any
// database error is returned (the receiver answers 503, the vendor
// retries).
func (in *Inbox) Enqueue(ctx context.Context, ev *webhook.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: riverinbox.Enqueue: nil event", webhook.ErrMalformed)
	}
	name := ev.Provider + "/" + ev.Receiver
	if in.lookup(name) == nil {
		return fmt.Errorf("%w: riverinbox: no receiver %q registered", webhook.ErrInvalidOption, name)
	}
	if ev.ID == "" {
		return fmt.Errorf("%w: riverinbox: %s delivery has no id", webhook.ErrMalformed, ev.Provider)
	}
	args := DeliveryArgs{Provider: ev.Provider, Receiver: ev.Receiver, ID: ev.ID, Type: ev.Type, Raw: ev.Raw,
		Header: ev.Header, Delivery: ev.Delivery, ReceivedAt: ev.ReceivedAt}
	res, err := in.client.Insert(ctx, args, &river.InsertOpts{
		Queue:       in.cfg.queue,
		MaxAttempts: in.cfg.maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("riverinbox: storing %s delivery %s: %w", ev.Provider, ev.ID, err)
	}
	if res.UniqueSkippedAsDuplicate {
		return fmt.Errorf("%w: riverinbox: %s delivery %s already stored (job %d, %s)", webhook.ErrDuplicate, ev.Provider, ev.ID, res.Job.ID, res.Job.State)
	}
	return nil
}

// Start starts this replica's workers. Cancelling ctx stops them like
// Stop (River's soft stop); use a context that lives as long as the
// process and call Stop on shutdown.
func (in *Inbox) Start(ctx context.Context) error {
	if err := in.client.Start(ctx); err != nil {
		return fmt.Errorf("riverinbox: start: %w", err)
	}
	return nil
}

// Stop stops fetching deliveries and waits for running callbacks. If ctx
// ends first their contexts are cancelled and Stop returns ctx's error;
// the unfinished deliveries stay in the database and are retried after
// WithRescueAfter (nothing acknowledged is lost). Stop receivers first.
func (in *Inbox) Stop(ctx context.Context) error {
	err := in.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = in.client.StopAndCancel(hard)
	return fmt.Errorf("riverinbox: stop: %w (unfinished deliveries are retried after the rescue delay)", err)
}

// worker is the one River worker: it finds the receiver by name and runs
// its process func, completing the job in the callback's transaction when
// the callback used Tx.
type worker struct {
	river.WorkerDefaults[DeliveryArgs]
	in *Inbox
}

func (w *worker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	name := job.Args.Provider + "/" + job.Args.Receiver
	process := w.in.lookup(name)
	if process == nil {
		return fmt.Errorf("riverinbox: no receiver %q registered on this replica", name)
	}
	h := &txHolder{pool: w.in.pool, ctx: ctx}
	err := process(context.WithValue(ctx, txKey{}, h), job.Args.Event())
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	if h.beginErr != nil {
		return fmt.Errorf("riverinbox: beginning the callback's transaction: %w", h.beginErr)
	}
	if h.tx == nil {
		return err // River completes the job: at-least-once
	}
	defer func() { _ = h.tx.Rollback(context.WithoutCancel(ctx)) }()
	if err != nil {
		return err
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, h.tx, job); err != nil {
		return fmt.Errorf("riverinbox: completing job in the callback's transaction: %w", err)
	}
	if err := h.tx.Commit(ctx); err != nil {
		return fmt.Errorf("riverinbox: committing the callback's transaction: %w", err)
	}
	return nil
}

type txKey struct{}

type txHolder struct {
	pool     *pgxpool.Pool
	ctx      context.Context
	mu       sync.Mutex
	tx       pgx.Tx
	beginErr error
	done     bool
}

// Tx returns the transaction of the delivery being processed, beginning it
// on first use; ok is false outside a River inbox callback, after the
// callback returned, or if the transaction could not begin (the delivery
// is then retried whatever the callback returns). When the callback
// returns nil the job is marked completed in this transaction and it is
// committed, so the callback's writes and the completion land together or
// not at all: a crash never applies them twice. On error it is rolled
// back. Do not commit or roll it back yourself; like any pgx.Tx it is not
// for concurrent use.
func Tx(ctx context.Context) (pgx.Tx, bool) {
	h, _ := ctx.Value(txKey{}).(*txHolder)
	if h == nil {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return nil, false
	}
	if h.tx == nil && h.beginErr == nil {
		h.tx, h.beginErr = h.pool.Begin(h.ctx)
	}
	if h.beginErr != nil {
		return nil, false
	}
	return h.tx, true
}

// errorHandler logs failed attempts without bodies.
type errorHandler struct{ log *slog.Logger }

func (e *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	if e.log != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "riverinbox: delivery failed", jobAttrs(job,
			slog.String("error", err.Error()))...)
	}
	return nil
}

func (e *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	if e.log != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "riverinbox: delivery panicked", jobAttrs(job,
			slog.String("error", fmt.Sprint(panicVal)), slog.String("stack", trace))...)
	}
	return nil
}

func jobAttrs(job *rivertype.JobRow, more ...slog.Attr) []slog.Attr {
	attrs := []slog.Attr{slog.Int64("job", job.ID), slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts)}
	var a DeliveryArgs
	if json.Unmarshal(job.EncodedArgs, &a) == nil {
		attrs = append(attrs, slog.String("provider", a.Provider), slog.String("receiver", a.Receiver),
			slog.String("delivery_id", a.ID), slog.String("event", a.Type))
	}
	return append(attrs, more...)
}

// Migrate runs River's migrations up (rivermigrate), creating or updating
// its tables; it is safe to call from every replica at startup (an
// advisory lock serialises concurrent calls). Reads WithSchema and
// WithLogger; the schema must exist.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if pool == nil {
		return fmt.Errorf("%w: riverinbox.Migrate: nil pool", webhook.ErrInvalidOption)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: cfg.schema, Logger: cfg.logger})
	if err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	// Serialise replicas starting together: a session advisory lock on one
	// connection while the migrations run (each in its own transaction:
	// some cannot share one) on the others.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	defer conn.Release()
	f := fnv.New64a()
	f.Write([]byte("callcrm riverinbox migrate " + cfg.schema))
	key := int64(f.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) }()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	return nil
}

var _ webhook.Inbox = (*Inbox)(nil)
