package engrami_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/testkit"
)

// TestWithObserverNamesServiceAndOperation: calls are reported on the
// "engrami" service under the SDK's fixed operation name.
func TestWithObserverNamesServiceAndOperation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	rec := &testkit.ClientRecorder{}
	c, err := engrami.NewClient(engrami.WithToken("tok"), engrami.WithBaseURL(srv.URL), engrami.WithObserver(rec))
	require.NoError(t, err)
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "/things/{id}", []string{"t_1"}, nil, nil, nil))
	assert.Equal(t, []string{"engrami Do", "end"}, rec.Recorded().Calls)
	_, err = engrami.NewClient(engrami.WithToken("tok"), engrami.WithObserver(nil))
	require.ErrorContains(t, err, "WithObserver")
}
