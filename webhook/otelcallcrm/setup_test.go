package otelcallcrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm/internal/oteltest"
)

func TestSetupValidates(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]otelcallcrm.SetupConfig{
		"ServiceName":      {},
		"SpanExporters[0]": {ServiceName: "x", SpanExporters: []sdktrace.SpanExporter{nil}},
		"MetricReaders[0]": {ServiceName: "x", MetricReaders: []sdkmetric.Reader{nil}},
		"WithInboxDepth":   {ServiceName: "x", Options: []otelcallcrm.Option{otelcallcrm.WithInboxDepth(nil)}},
	} {
		_, err := otelcallcrm.Setup(ctx, cfg)
		if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want ErrInvalidOption naming it", name, err)
		}
	}
}

// Setup sends spans to Stdout at once and to the exporters in batches,
// with the service name, and metrics to the readers.
func TestSetup(t *testing.T) {
	ctx := context.Background()
	var stdout bytes.Buffer
	exp := tracetest.NewInMemoryExporter()
	reader := sdkmetric.NewManualReader()
	tel, err := otelcallcrm.Setup(ctx, otelcallcrm.SetupConfig{
		ServiceName:   "crm-backend",
		Stdout:        &stdout,
		SpanExporters: []sdktrace.SpanExporter{exp},
		MetricReaders: []sdkmetric.Reader{reader},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, end := tel.Observer.Start(ctx, webhook.StageDelivery, webhook.Observation{Provider: "sivo", Receiver: "default"})
	end(webhook.Result{Outcome: webhook.OutcomeProcessed, Status: http.StatusOK})

	var span struct {
		Name     string
		Resource []struct {
			Key   string
			Value struct{ Value any }
		}
	}
	if err := json.NewDecoder(&stdout).Decode(&span); err != nil {
		t.Fatalf("stdout holds no span: %v", err)
	}
	if span.Name != "webhook receive sivo" {
		t.Errorf("stdout span %q", span.Name)
	}
	var service any
	for _, kv := range span.Resource {
		if kv.Key == "service.name" {
			service = kv.Value.Value
		}
	}
	if service != "crm-backend" {
		t.Errorf("service.name = %v", service)
	}
	var rm = oteltest.Collect(t, reader)
	if got := oteltest.Sum(rm, otelcallcrm.MetricDeliveries, map[string]any{"callcrm.outcome": "processed"}); got != 1 {
		t.Errorf("deliveries = %v, want 1", got)
	}
	if err := tel.TracerProvider.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := exp.GetSpans(); len(got) != 1 || got[0].Name != "webhook receive sivo" {
		t.Errorf("exporter got %v after a flush, want the delivery span", got)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// The Observer is safe for concurrent use (run with -race): deliveries,
// jobs and client calls from many goroutines.
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, otelcallcrm.WithTenantAttribute(func(string) string { return "all" }))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				carrier := enqueueDelivery(context.Background(), h.obs, "acme")
				runJob(h.obs, carrier, "acme", nil)
				refuse(h.obs, "signature", i%2 == 0)
				ctx, end := h.obs.StartCall(context.Background(), "siro-org", "Recordings.Get")
				_, endAttempt := h.obs.StartAttempt(ctx, http.MethodGet, 1)
				endAttempt(200, nil, 0)
				end(200, nil)
			}
		})
	}
	wg.Wait()
	rm := h.Collect(t)
	if got := oteltest.Sum(rm, otelcallcrm.MetricInboxJobs, map[string]any{"callcrm.tenant": "all"}); got != 160 {
		t.Errorf("inbox jobs = %v, want 160", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricVerificationFailures, map[string]any{"callcrm.reason": "signature"}); got != 160 {
		t.Errorf("verification failures = %v, want 160", got)
	}
	if got := oteltest.Sum(rm, otelcallcrm.MetricClientRequests, nil); got != 160 {
		t.Errorf("client requests = %v, want 160", got)
	}
}
