package webhook

import (
	"context"
	"testing"
	"time"
)

func benchSpec(s *Spec[any]) {
	s.NewVerifier = func(secrets []string) (Verifier, error) { return NewHMAC("X-Sig", "", secrets...) }
}

type nopObserver struct{}

func (nopObserver) Start(ctx context.Context, _ Stage, _ Observation) (context.Context, func(Result)) {
	return ctx, func(Result) {}
}
func (nopObserver) Inject(context.Context) map[string]string                         { return nil }
func (nopObserver) Extract(ctx context.Context, _ map[string]string) context.Context { return ctx }

func benchMore(b *testing.B) {
	src := SecretsFunc(func(context.Context, string) ([]string, error) { return []string{"bench-secret"}, nil })
	b.Run("source", func(b *testing.B) { benchReceive(b, WithSecretSource(src, FixedTenant("acme"))) })
	cache, err := NewSecretCache(src, 30*time.Second, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("source-cached", func(b *testing.B) { benchReceive(b, WithSecretSource(cache, FixedTenant("acme"))) })
	b.Run("observer", func(b *testing.B) { benchReceive(b, WithObserver(nopObserver{})) })
}
