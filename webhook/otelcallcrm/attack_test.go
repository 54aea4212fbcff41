package otelcallcrm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
)

// A typed nil provider (a *sdktrace.TracerProvider left nil when tracing
// is off, say) is a nil provider too: New refuses it with an error naming
// the option instead of panicking on its first use.
func TestAttackTypedNilProvidersRefused(t *testing.T) {
	var (
		tp   *sdktrace.TracerProvider
		mp   *sdkmetric.MeterProvider
		prop *nilPropagator
	)
	for name, opt := range map[string]otelcallcrm.Option{
		"WithTracerProvider": otelcallcrm.WithTracerProvider(tp),
		"WithMeterProvider":  otelcallcrm.WithMeterProvider(mp),
		"WithPropagator":     otelcallcrm.WithPropagator(prop),
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s(typed nil): New panicked: %v", name, p)
				}
			}()
			_, err := otelcallcrm.New(opt)
			if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s(typed nil): error %v, want ErrInvalidOption naming it", name, err)
			}
		}()
	}
	// Setup's exporters and readers likewise.
	var exp *tracetest.InMemoryExporter
	var rd *sdkmetric.ManualReader
	for name, cfg := range map[string]otelcallcrm.SetupConfig{
		"SpanExporters[0]": {ServiceName: "svc", SpanExporters: []sdktrace.SpanExporter{exp}},
		"MetricReaders[0]": {ServiceName: "svc", MetricReaders: []sdkmetric.Reader{rd}},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("Setup with a typed nil %s panicked: %v", name, p)
				}
			}()
			tel, err := otelcallcrm.Setup(context.Background(), cfg)
			if err == nil {
				_ = tel.Shutdown(context.Background())
			}
			if !errors.Is(err, webhook.ErrInvalidOption) || !strings.Contains(err.Error(), name) {
				t.Errorf("Setup with a typed nil %s: error %v, want ErrInvalidOption naming it", name, err)
			}
		}()
	}
}

// nilPropagator is a propagator type whose nil pointer is not usable.
type nilPropagator struct{ propagation.TraceContext }
