package otelcallcrm

import (
	"strconv"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// setKind says which attributes a setKey's fields are.
type setKind uint8

const (
	kindDelivery  setKind = iota // provider, receiver, tenant, outcome, status
	kindRefusal                  // provider, receiver, tenant, reason
	kindDuplicate                // provider, receiver, tenant, stage
	kindCallback                 // provider, receiver, tenant, outcome
	kindStore                    // provider, receiver, tenant, outcome, op
	kindJob                      // provider, receiver, tenant, outcome
	kindDead                     // provider, receiver, tenant
	kindCall                     // service, operation, status, error.type
	kindAttempt                  // service, method, status, error.type
	kindRetry                    // service, operation
	kindLimiter                  // service
	kindMint                     // service, outcome
)

// setKey names one metric attribute set. Every field is bounded (see the
// package documentation), so the cache of sets is too; maxSets guards it
// anyway.
type setKey struct {
	kind   setKind
	a, b   string // provider and receiver, or service and operation/method
	tenant string // WithTenantAttribute's label
	c, d   string // outcome, reason, stage, op or error.type
	status int
}

const maxSets = 4096

// setCache keeps the measurement options of each attribute set, so
// recording a measurement neither builds, sorts nor allocates a set (nor
// the variadic option slice), and takes no lock.
type setCache struct{ m cowMap[setKey, setOpts] }

// setOpts is one attribute set as Add's and Record's options.
type setOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func (c *setCache) get(k setKey) setOpts {
	if opts, ok := c.m.load(k); ok {
		return opts
	}
	return c.m.store(k, newSetOpts(k))
}

func newSetOpts(k setKey) setOpts {
	opt := metric.WithAttributeSet(attribute.NewSet(k.attributes()...))
	return setOpts{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
}

// cowMap is a copy-on-write map for caches read on every delivery and
// written a few times in a process's life: a read is an atomic load and a
// map lookup, with no lock to contend on. It holds at most maxSets
// entries; past that, store returns the value without keeping it.
type cowMap[K comparable, V any] struct {
	mu sync.Mutex // serialises writers
	p  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if m := c.p.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// store keeps v for k unless k has a value already, and returns the value
// kept (or v when the map is full).
func (c *cowMap[K, V]) store(k K, v V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.p.Load(); p != nil {
		old = *p
	}
	if cur, ok := old[k]; ok {
		return cur
	}
	if len(old) >= maxSets {
		return v
	}
	m := make(map[K]V, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[k] = v
	c.p.Store(&m)
	return v
}

func (k setKey) attributes() []attribute.KeyValue {
	a := make(attrs, 0, 6)
	switch k.kind {
	case kindCall, kindRetry:
		a = a.str(AttrService, k.a).str(AttrOperation, k.b)
	case kindAttempt:
		a = a.str(AttrService, k.a).str(keyMethod, k.b)
	case kindLimiter, kindMint:
		a = a.str(AttrService, k.a)
	default:
		a = append(a, AttrProvider.String(validUTF8(k.a)), AttrReceiver.String(validUTF8(k.b)))
		a = a.str(AttrTenant, k.tenant)
	}
	switch k.kind {
	case kindDelivery, kindCallback, kindJob, kindMint:
		a = a.str(AttrOutcome, k.c)
	case kindStore:
		a = a.str(AttrOutcome, k.c).str(AttrStoreOp, k.d)
	case kindRefusal:
		a = a.str(AttrReason, k.c)
	case kindDuplicate:
		a = a.str(AttrStage, k.c)
	case kindCall, kindAttempt:
		a = a.str(keyErrorType, k.c)
	}
	if k.status != 0 {
		a = append(a, keyStatus.Int(k.status))
	}
	return a
}

// statusText is strconv.Itoa for HTTP statuses without allocating for the
// common ones.
func statusText(status int) string {
	switch status {
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 409:
		return "409"
	case 429:
		return "429"
	case 500:
		return "500"
	case 502:
		return "502"
	case 503:
		return "503"
	case 504:
		return "504"
	}
	return strconv.Itoa(status)
}
