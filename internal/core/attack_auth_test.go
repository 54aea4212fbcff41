package core

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackConcurrent401sShareOneRemint: N calls in flight with the same
// token all get 401 together. Each replays once, and all the replays share
// one new token: one re-mint for the whole crowd, not N.
func TestAttackConcurrent401sShareOneRemint(t *testing.T) {
	const callers = 24
	var arrived atomic.Int32
	all := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.Header.Get("Authorization") {
		case "Bearer t1":
			if arrived.Add(1) == callers {
				close(all)
			}
			select { // every caller holds t1 before any is answered
			case <-all:
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(http.StatusUnauthorized)
		case "Bearer t2":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	var mints atomic.Int32
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		return Token{Value: fmt.Sprintf("t%d", mints.Add(1))}, nil
	}, 0, nil)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	errs := make(chan error, callers)
	wait := concurrently(callers, func(int) {
		resp, err := c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x"}, nil)
		if err == nil && resp.Attempts != 1 {
			err = fmt.Errorf("attempts %d, want 1 (the replay is not a retry)", resp.Attempts)
		}
		errs <- err
	})
	wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int32(2), mints.Load(), "the first token and one re-mint")
	assert.Equal(t, int32(2*callers), hits.Load(), "one replay per caller")
}

// TestAttackMintFailureKeepsSecretOut: a token function whose error quotes
// the secret it was given is the caller's business, but the client adds
// none of its own: the credential error of a failing mint names neither
// the previous token nor anything from the request, and a panic carrying
// the token does not escape as a panic.
func TestAttackMintFailureKeepsSecretOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	var n atomic.Int32
	auth, err := NewRefreshingAuth("Authorization", "Bearer ", func(context.Context) (Token, error) {
		if n.Add(1) == 1 {
			return Token{Value: "first-SECRET-token"}, nil
		}
		return Token{}, fmt.Errorf("token endpoint said 500")
	}, 0, nil)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Auth = auth })
	_, err = c.Do(context.Background(), &Request{Method: http.MethodGet, Route: "/x", Header: http.Header{"X-Trace": {"t"}}}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "getting credential")
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%v", auth), fmt.Sprintf("%#v", auth), fmt.Sprintf("%+v", c)} {
		assert.NotContains(t, s, "first-SECRET-token")
	}
}
