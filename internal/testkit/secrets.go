package testkit

import (
	"context"
	"fmt"
	"sync"

	"github.com/callcrm/callcrm-go/webhook"
)

// ErrSourceDown is what a failing SecretSource returns.
var ErrSourceDown = fmt.Errorf("testkit: the secret source is down")

// SecretSource is a webhook.SecretSource a test changes between calls:
// Secrets answers a copy of Tenants[tenant], webhook.ErrUnknownTenant for
// a tenant not in it, and ErrSourceDown while Fail is set. Change it with
// Set; it is safe for concurrent use.
type SecretSource struct {
	mu      sync.Mutex
	tenants map[string][]string
	fail    bool
	calls   int
}

// NewSecretSource returns a source answering tenants.
func NewSecretSource(tenants map[string][]string) *SecretSource {
	return &SecretSource{tenants: tenants}
}

// Secrets implements webhook.SecretSource.
func (s *SecretSource) Secrets(_ context.Context, tenant string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail {
		return nil, ErrSourceDown
	}
	v, ok := s.tenants[tenant]
	if !ok {
		return nil, fmt.Errorf("%w: %s", webhook.ErrUnknownTenant, tenant)
	}
	return append([]string(nil), v...), nil
}

// SetTenant replaces one tenant's secrets; none leaves the tenant known
// with an empty list.
func (s *SecretSource) SetTenant(tenant string, secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenants[tenant] = secrets
}

// SetFail makes every later call fail (true) or answer again (false).
func (s *SecretSource) SetFail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Calls returns how many times Secrets was called.
func (s *SecretSource) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
