package siro_test

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeleteAnsweredFalseIsErrNotDeleted: every delete Siro answers 2xx
// with false (bare false, {"success": false}, {"data": false}) returns an
// error matching ErrNotDeleted, naming the operation; a refused delete
// (404) does not match it, and true is no error.
func TestDeleteAnsweredFalseIsErrNotDeleted(t *testing.T) {
	ctx := context.Background()
	reply := "false"
	status := 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		body := reply
		switch {
		case strings.Contains(r.URL.Path, "soft-delete-removed"):
			body = `{"data":{"success":` + reply + `}}`
		case strings.HasSuffix(r.URL.Path, "/link"):
			body = `{"data":` + reply + `}`
		}
		if status != 200 {
			body = `{"message":"no such thing"}`
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := siro.NewClient(siro.WithOrgToken("o"), siro.WithUserToken("u"), siro.WithOrgBaseURL(srv.URL), siro.WithUserBaseURL(srv.URL))
	require.NoError(t, err)
	from := webhook.Time{Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	to := webhook.Time{Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	deletes := map[string]func() error{
		"Engagements.Delete":      func() error { return c.DeleteEngagement(ctx, "e1", nil) },
		"EngagementUsers.Delete":  func() error { return c.DeleteEngagementUser(ctx, "eu1") },
		"Opportunities.Delete":    func() error { return c.DeleteOpportunity(ctx, "o1") },
		"OpportunityUsers.Delete": func() error { return c.DeleteOpportunityUser(ctx, "ou1") },
		"Accounts.Delete":         func() error { return c.DeleteAccount(ctx, "a1") },
		"Sync.SoftDeleteRemovedEngagements": func() error {
			return c.SoftDeleteRemovedEngagements(ctx, &siro.SoftDeleteRemovedParams{ValidExternalIDs: []string{}, FromTime: from, ToTime: to})
		},
		"Recordings.Unlink": func() error {
			return c.UnlinkRecording(ctx, "r1", &siro.LinkTarget{DataType: siro.DataAccount, ID: "a1"})
		},
	}
	for op, del := range deletes {
		reply, status = "false", 200
		err := del()
		require.Error(t, err, op)
		assert.True(t, errors.Is(err, siro.ErrNotDeleted), "%s: %v", op, err)
		assert.Contains(t, err.Error(), op)
		assert.False(t, errors.Is(err, siro.ErrNotFound), op)

		reply = "true"
		assert.NoError(t, del(), op)

		status = 404
		err = del()
		assert.True(t, errors.Is(err, siro.ErrNotFound), "%s: %v", op, err)
		assert.False(t, errors.Is(err, siro.ErrNotDeleted), op)
	}
}

// TestConnectionsCursorDocSaysUndocumented: the connections cursor query
// parameter is not in Siro's documents; ListConnections says so, and that
// AllConnections' pager guards against Siro ignoring it (the guard itself
// is TestAllConnectionsStopsWhenCursorIgnored).
func TestConnectionsCursorDocSaysUndocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "connections.go", nil, parser.ParseComments)
	require.NoError(t, err)
	docs := map[string]string{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Doc != nil {
			docs[fn.Name.Name] = fn.Doc.Text()
		}
	}
	list := strings.Join(strings.Fields(docs["ListConnections"]), " ")
	assert.Contains(t, list, "no cursor query parameter")
	assert.Contains(t, list, "AllConnections' pager stops")
	assert.Contains(t, strings.Join(strings.Fields(docs["AllConnections"]), " "), "undocumented")
}

// TestRefusedSiroDeliveryLogsSvixID: a delivery refused before
// verification is logged with its svix-id, not an empty delivery_id.
func TestRefusedSiroDeliveryLogsSvixID(t *testing.T) {
	const secret = "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	h, err := siro.NewHandler([]string{secret}, siro.Callbacks{},
		webhook.WithClock(clk), webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	req := signed(t, "whsec_"+"b3RoZXItc2VjcmV0", clk.Now(), map[string]any{"recordingId": "rec_1", "eventType": siro.EventRecordingLinked})
	req.Header.Set("Svix-Id", "msg_refused_1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 401, rec.Code)
	assert.Contains(t, logs.String(), "delivery_id=msg_refused_1")
}
