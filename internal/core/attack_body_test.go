package core

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackReaderBodyNotSentAsEmptyObject: Request.Body is marshalled to
// JSON, and an io.Reader (a *strings.Reader, a *bytes.Buffer, a file)
// marshals to "{}": the caller's payload would be replaced by an empty
// object without a word. It must be refused before anything is sent.
func TestAttackReaderBodyNotSentAsEmptyObject(t *testing.T) {
	var hits atomic.Int32
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	for _, body := range []any{strings.NewReader(`{"a":1}`), bytes.NewBufferString(`{"a":1}`), io.NopCloser(strings.NewReader(`{"a":1}`))} {
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Route: "/x", Body: body}, nil)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%T", body)
	}
	assert.Zero(t, hits.Load(), "sent %q", got)

	// What is documented still works: []byte and json.RawMessage as is.
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPut, Route: "/x", Body: []byte(`{"a":1}`)}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{`{"a":1}`}, got)
}
