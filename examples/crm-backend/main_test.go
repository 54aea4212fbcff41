package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackendServesAndShutsDown(t *testing.T) {
	env := map[string]string{"SIVO_WEBHOOK_SECRET": "s1", "SYMBO_WEBHOOK_SECRET": "s2", "CALLSYNC_WEBHOOK_SECRET": "s3",
		"ENGRAMI_TOOL_SECRET": "s4", "SIRO_WEBHOOK_SECRET": "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return env[k] }, addr)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, 5*time.Second, 10*time.Millisecond)

	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c1"})
	code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	resp, err := http.Post("http://"+addr+"/webhooks/symbo", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "unsigned deliveries are refused")
	resp, err = http.Get("http://" + addr + "/symbo/lookup?number=%2B18005551212")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "the contact lookup is not served to anyone")
	dialer, _ := symbotest.NewSender("s2")
	code, _, err = dialer.Lookup(context.Background(), "http://"+addr+"/symbo/lookup", "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 404, code, "Symbo's signed lookup reaches the CRM")
	cancel()
	require.NoError(t, <-done)
}
