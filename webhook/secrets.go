package webhook

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"strings"
	"sync"
)

// SecretSource resolves the signing secrets of one tenant (an account at
// the vendor, a customer of a SaaS CRM) for each delivery, so secrets can
// live in a database and rotate without a restart. It is called with the
// request's context on every delivery: return every secret that should
// verify now (old and new during a rotation). An error wrapping
// ErrUnknownTenant answers 404; any other error answers 503 with
// Retry-After (the vendor retries; a source failure never answers 401,
// which would send genuine deliveries to the vendor's dead-letter queue).
// Secrets it returns never appear in a log, error or %v.
type SecretSource interface {
	// Secrets returns every secret of tenant that verifies now.
	Secrets(ctx context.Context, tenant string) ([]string, error)
}

// SecretsFunc adapts a function to a SecretSource.
type SecretsFunc func(ctx context.Context, tenant string) ([]string, error)

// Secrets calls f.
func (f SecretsFunc) Secrets(ctx context.Context, tenant string) ([]string, error) {
	return f(ctx, tenant)
}

// TenantFunc names the tenant a request is addressed to, from what the
// user configured (the URL path, the handler instance) and never from an
// unsigned header or body field. An error answers 404.
type TenantFunc func(r *http.Request) (string, error)

// TenantFromPath reads the tenant from the path wildcard name of the
// http.ServeMux pattern the receiver is mounted on ("/symbo/{tenant}").
func TenantFromPath(name string) TenantFunc {
	return func(r *http.Request) (string, error) {
		if t := r.PathValue(name); t != "" {
			return t, nil
		}
		return "", wrap(ErrUnknownTenant, "no {%s} in the request path (mount the receiver on a pattern with it)", name)
	}
}

// FixedTenant names the tenant of every delivery to this receiver (one
// handler per account).
func FixedTenant(tenant string) TenantFunc {
	return func(*http.Request) (string, error) { return tenant, nil }
}

// WithSecretSource makes the receiver resolve its secrets per delivery:
// tenant names the tenant from the request, src returns its secrets, and
// the vendor's verifier is built from them (cached per tenant and secret
// list, so a rotation takes effect on the next delivery and a removed
// secret stops verifying at once). Event.Tenant is set and dedupe keys and
// inbox events are namespaced by tenant. The vendor constructor's fixed
// secrets may then be empty.
func WithSecretSource(src SecretSource, tenant TenantFunc) Option {
	return func(s *settings) error {
		if src == nil || tenant == nil {
			return wrap(ErrInvalidOption, "WithSecretSource: source and tenant func must not be nil")
		}
		s.source, s.tenant = src, tenant
		return nil
	}
}

// verifierCache holds the verifier built for each tenant's current secret
// list, keyed by a keyed hash of the list (the secrets themselves are not
// kept beyond the verifier).
type verifierCache struct {
	src    SecretSource
	tenant TenantFunc
	build  func([]string) (Verifier, error)
	seed   maphash.Seed
	m      sync.Map // tenant -> *cachedVerifier
}

type cachedVerifier struct {
	fp keyHash
	v  Verifier
}

// sources checks the secrets configuration and sets up the cache.
func (r *Receiver) sources() error {
	if r.s.source == nil {
		if r.spec.Verifier == nil {
			return wrap(ErrInvalidSecret, "no secret given to the %s receiver (give secrets or WithSecretSource)", r.spec.Provider)
		}
		return nil
	}
	if r.spec.NewVerifier == nil {
		return wrap(ErrInvalidOption, "WithSecretSource: a %s receiver cannot build its verifier from a source", r.spec.Provider)
	}
	r.secrets = &verifierCache{src: r.s.source, tenant: r.s.tenant, build: r.spec.NewVerifier, seed: maphash.MakeSeed()}
	return nil
}

// tenantOf names the tenant of req, or says why it cannot (404).
func (c *verifierCache) tenantOf(req *http.Request) (tenant string, err error) {
	defer func() {
		if p := recover(); p != nil {
			tenant, err = "", fmt.Errorf("%w: the tenant func panicked: %v", ErrSecretSource, p)
		}
	}()
	tenant, err = c.tenant(req)
	switch {
	case err != nil && !errors.Is(err, ErrUnknownTenant):
		return "", fmt.Errorf("%w: %w", ErrUnknownTenant, err)
	case err != nil:
		return "", err
	case tenant == "" || len(tenant) > 128 || strings.ContainsAny(tenant, "/\x00"):
		return "", wrap(ErrUnknownTenant, "tenant %.40q is empty, too long or holds '/'", tenant)
	}
	return tenant, nil
}

// verifierFor returns the verifier for ev: the fixed one, or the one for
// its tenant's current secrets.
func (r *Receiver) verifierFor(ctx context.Context, ev *Event, tenantErr error) (Verifier, error) {
	c := r.secrets
	if c == nil {
		return r.spec.Verifier, nil
	}
	if tenantErr != nil {
		return nil, tenantErr
	}
	if sc, ok := c.src.(*SecretCache); ok {
		if secrets, fresh := sc.fresh(ev.Tenant); fresh {
			return c.verifierOf(ev.Tenant, secrets) // no source call to bound
		}
	}
	// A source is a store: bounded like one (WithStoreTimeout), so a hung
	// database answers 503 and the vendor retries.
	ctx, cancel := context.WithTimeout(ctx, r.s.storeTimeout)
	defer cancel()
	return c.verifier(ctx, ev.Tenant)
}

// verifier returns the verifier for tenant's current secrets.
func (c *verifierCache) verifier(ctx context.Context, tenant string) (Verifier, error) {
	secrets, err := c.secretsOf(ctx, tenant)
	switch {
	case errors.Is(err, ErrUnknownTenant):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: tenant %q: %w", ErrSecretSource, tenant, err)
	case len(secrets) == 0:
		return nil, wrap(ErrUnknownTenant, "tenant %q has no secrets", tenant)
	}
	return c.verifierOf(tenant, secrets)
}

// verifierOf returns the verifier for tenant's secrets, built once per
// secret list.
func (c *verifierCache) verifierOf(tenant string, secrets []string) (Verifier, error) {
	fp := c.fingerprint(secrets)
	if e, ok := c.m.Load(tenant); ok && e.(*cachedVerifier).fp == fp {
		return e.(*cachedVerifier).v, nil
	}
	v, err := c.build(secrets)
	if err != nil {
		// A secret the vendor's scheme cannot use: a configuration error
		// on our side, so the vendor retries while it is fixed.
		return nil, fmt.Errorf("%w: tenant %q: %w", ErrSecretSource, tenant, err)
	}
	c.m.Store(tenant, &cachedVerifier{fp: fp, v: v})
	return v, nil
}

// HasSecretSource reports whether WithSecretSource was given, so an
// endpoint that is not a receiver (Symbo's contact lookup, Engrami's tool
// endpoints) can accept empty fixed secrets.
func (c *Config) HasSecretSource() bool { return c.s.source != nil }

// Verifier returns the verifier for r, for endpoints that are not
// receivers: with WithSecretSource, the one build makes from the secrets
// of r's tenant (cached per tenant and secret list, like a receiver's)
// and the tenant; otherwise fixed and "". An error wraps ErrUnknownTenant
// (answer 404) or ErrSecretSource (answer 503 with Retry-After); see
// StatusCode.
func (c *Config) Verifier(ctx context.Context, r *http.Request, fixed Verifier, build func(secrets []string) (Verifier, error)) (Verifier, string, error) {
	if c.s.source == nil {
		return fixed, "", nil
	}
	mk := func() *verifierCache {
		return &verifierCache{src: c.s.source, tenant: c.s.tenant, build: build, seed: maphash.MakeSeed()}
	}
	var cache *verifierCache
	if c.lazy == nil {
		cache = mk() // a Config not made by NewConfig: no cache
	} else {
		c.lazy.once.Do(func() { c.lazy.cache = mk() })
		cache = c.lazy.cache
	}
	tenant, err := cache.tenantOf(r)
	if err != nil {
		return nil, "", err
	}
	v, err := cache.verifier(ctx, tenant)
	return v, tenant, err
}

func (c *verifierCache) fingerprint(secrets []string) keyHash {
	var h1, h2 maphash.Hash
	h1.SetSeed(c.seed)
	h2.SetSeed(c.seed)
	h2.WriteByte(1)
	for _, s := range secrets {
		maphash.WriteComparable(&h1, len(s))
		h1.WriteString(s)
		maphash.WriteComparable(&h2, len(s))
		h2.WriteString(s)
	}
	return keyHash{h1.Sum64(), h2.Sum64()}
}

// secretsOf calls the source, turning a panic into a source failure (503).
func (c *verifierCache) secretsOf(ctx context.Context, tenant string) (secrets []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			secrets, err = nil, fmt.Errorf("the secret source panicked: %v", p)
		}
	}()
	return c.src.Secrets(ctx, tenant)
}
