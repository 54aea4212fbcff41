package engrami_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/engrami"
)

// callRecorder is this test's own engrami.ClientObserver.
type callRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *callRecorder) StartCall(ctx context.Context, service, op string) (context.Context, func(int, error)) {
	r.mu.Lock()
	r.calls = append(r.calls, service+" "+op)
	r.mu.Unlock()
	return ctx, func(int, error) {}
}

func (r *callRecorder) StartAttempt(ctx context.Context, _ string, _ int) (context.Context, func(int, error, time.Duration)) {
	return ctx, func(int, error, time.Duration) {}
}
func (r *callRecorder) LimiterWait(context.Context, time.Duration)      {}
func (r *callRecorder) TokenMint(context.Context, time.Duration, error) {}

// TestWithObserverNamesServiceAndOperation: calls are reported on the
// "engrami" service under the SDK's fixed operation name.
func TestWithObserverNamesServiceAndOperation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	rec := &callRecorder{}
	c, err := engrami.NewClient(engrami.WithToken("tok"), engrami.WithBaseURL(srv.URL), engrami.WithObserver(rec))
	require.NoError(t, err)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/things/{id}", []string{"t_1"}, nil, nil))
	assert.Equal(t, []string{"engrami Do"}, rec.calls)
	_, err = engrami.NewClient(engrami.WithToken("tok"), engrami.WithObserver(nil))
	require.ErrorContains(t, err, "WithObserver")
}
