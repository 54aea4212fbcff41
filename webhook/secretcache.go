package webhook

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// SecretCache is a SecretSource that keeps each tenant's secrets for a
// short TTL, so most deliveries do not call the underlying source (a
// database read, with its timeout) at all. The trade-off is documented and
// bounded: a secret removed from the source keeps verifying for at most
// TTL on each replica, unless Invalidate or InvalidateAll is called (from
// the code that rotates the secret, on every replica). Failures and
// unknown tenants are never cached. Safe for concurrent use; it never
// prints a secret.
type SecretCache struct {
	src   SecretSource
	ttl   time.Duration
	clock Clock

	mu sync.RWMutex
	m  map[string]cachedSecrets
}

type cachedSecrets struct {
	secrets []string
	until   time.Time
}

// MaxSecretCacheTTL is the longest TTL NewSecretCache accepts: a removed
// secret must stop verifying within minutes, not hours.
const MaxSecretCacheTTL = 5 * time.Minute

// NewSecretCache caches src's answers for ttl (at most
// MaxSecretCacheTTL; 30 s is a good default). clk is the clock the TTL is
// read on (nil: the real clock).
func NewSecretCache(src SecretSource, ttl time.Duration, clk Clock) (*SecretCache, error) {
	switch {
	case src == nil:
		return nil, wrap(ErrInvalidOption, "NewSecretCache: source is nil")
	case ttl <= 0 || ttl > MaxSecretCacheTTL:
		return nil, wrap(ErrInvalidOption, "NewSecretCache: ttl %v is not in (0, %v]", ttl, MaxSecretCacheTTL)
	}
	return &SecretCache{src: src, ttl: ttl, clock: clock.Or(clk), m: map[string]cachedSecrets{}}, nil
}

// Secrets returns tenant's cached secrets while they are fresh, and asks
// the source otherwise.
func (c *SecretCache) Secrets(ctx context.Context, tenant string) ([]string, error) {
	if s, ok := c.fresh(tenant); ok {
		return s, nil
	}
	secrets, err := c.src.Secrets(ctx, tenant)
	if err != nil || len(secrets) == 0 {
		return secrets, err
	}
	c.mu.Lock()
	c.m[tenant] = cachedSecrets{secrets: append([]string(nil), secrets...), until: c.clock.Now().Add(c.ttl)}
	c.mu.Unlock()
	return secrets, nil
}

// fresh returns tenant's secrets if they are cached and fresh.
func (c *SecretCache) fresh(tenant string) ([]string, bool) {
	c.mu.RLock()
	e, ok := c.m[tenant]
	c.mu.RUnlock()
	if !ok || !c.clock.Now().Before(e.until) {
		return nil, false
	}
	return e.secrets, true
}

// Invalidate drops tenant's cached secrets: the next delivery asks the
// source. Call it where a secret is rotated or removed.
func (c *SecretCache) Invalidate(tenant string) {
	c.mu.Lock()
	delete(c.m, tenant)
	c.mu.Unlock()
}

// InvalidateAll drops every cached secret.
func (c *SecretCache) InvalidateAll() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// String describes the cache without its secrets.
func (c *SecretCache) String() string { return "webhook.SecretCache{ttl: " + c.ttl.String() + "}" }

// GoString is String.
func (c *SecretCache) GoString() string { return c.String() }

// Format is String under every verb.
func (c *SecretCache) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
