package otelcallcrm

import (
	"strconv"
	"sync"

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
// the variadic option slice).
type setCache struct {
	mu sync.RWMutex
	m  map[setKey]setOpts
}

// setOpts is one attribute set as Add's and Record's options.
type setOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func (c *setCache) get(k setKey) setOpts {
	c.mu.RLock()
	opts, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return opts
	}
	opt := metric.WithAttributeSet(attribute.NewSet(k.attributes()...))
	opts = setOpts{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[setKey]setOpts)
	}
	if len(c.m) < maxSets {
		c.m[k] = opts
	}
	c.mu.Unlock()
	return opts
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
		a = append(a, AttrProvider.String(k.a), AttrReceiver.String(k.b))
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
