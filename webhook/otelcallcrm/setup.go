package otelcallcrm

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/callcrm/callcrm-go/webhook"
)

// SetupConfig says where Setup sends traces and metrics. Exporters that
// need heavy dependencies (OTLP, Prometheus) are built by you and passed
// in, so this module does not impose them:
//
//	prom, err := prometheus.New()           // go.opentelemetry.io/otel/exporters/prometheus
//	otlp, err := otlptracehttp.New(ctx)     // go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp
//	tel, err := otelcallcrm.Setup(ctx, otelcallcrm.SetupConfig{
//		ServiceName:   "crm-backend",
//		SpanExporters: []sdktrace.SpanExporter{otlp},
//		MetricReaders: []sdkmetric.Reader{prom},
//	})
//	mux.Handle("GET /metrics", promhttp.Handler())
type SetupConfig struct {
	// ServiceName is the service.name of every span and metric
	// (required). OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when
	// set, take precedence.
	ServiceName string
	// Stdout, when not nil, receives every span as indented JSON as soon
	// as it ends (for development: one delivery's whole trace, readable).
	Stdout io.Writer
	// SpanExporters receive every span, in batches (an OTLP exporter).
	SpanExporters []sdktrace.SpanExporter
	// MetricReaders read the metrics: the Prometheus exporter (a pull
	// reader), or sdkmetric.NewPeriodicReader over an OTLP exporter.
	MetricReaders []sdkmetric.Reader
	// Sampler decides which traces are recorded (default: the parent's
	// decision, else always).
	Sampler sdktrace.Sampler
	// Options are passed to New after the providers (WithInboxDepth,
	// WithTenantAttribute, WithPropagator).
	Options []Option
}

// Telemetry is what Setup built: the Observer to pass to receivers,
// inboxes and clients, and the providers, which you may also give to
// other instrumentation (otelhttp, River's otelriver).
type Telemetry struct {
	// Observer is the adapter on TracerProvider and MeterProvider.
	Observer *Observer
	// TracerProvider is the provider of the adapter's spans.
	TracerProvider *sdktrace.TracerProvider
	// MeterProvider is the provider of the adapter's metrics.
	MeterProvider *sdkmetric.MeterProvider
}

// Setup builds a TracerProvider and a MeterProvider from cfg, and an
// Observer on them. It sets no global: call otel.SetTracerProvider and
// otel.SetMeterProvider yourself if you want other libraries to use them.
// Call Shutdown before the program exits to flush what is buffered.
func Setup(ctx context.Context, cfg SetupConfig) (*Telemetry, error) {
	if cfg.ServiceName == "" {
		return nil, fmt.Errorf("%w: otelcallcrm.Setup: SetupConfig.ServiceName is empty", webhook.ErrInvalidOption)
	}
	for i, e := range cfg.SpanExporters {
		if isNil(e) {
			return nil, fmt.Errorf("%w: otelcallcrm.Setup: SetupConfig.SpanExporters[%d] is nil", webhook.ErrInvalidOption, i)
		}
	}
	for i, r := range cfg.MetricReaders {
		if isNil(r) {
			return nil, fmt.Errorf("%w: otelcallcrm.Setup: SetupConfig.MetricReaders[%d] is nil", webhook.ErrInvalidOption, i)
		}
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("otelcallcrm.Setup: resource: %w", err)
	}
	topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Sampler != nil {
		topts = append(topts, sdktrace.WithSampler(cfg.Sampler))
	}
	if cfg.Stdout != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(cfg.Stdout), stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, fmt.Errorf("otelcallcrm.Setup: stdout exporter: %w", err)
		}
		topts = append(topts, sdktrace.WithSyncer(exp))
	}
	for _, e := range cfg.SpanExporters {
		topts = append(topts, sdktrace.WithBatcher(e))
	}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range cfg.MetricReaders {
		mopts = append(mopts, sdkmetric.WithReader(r))
	}
	t := &Telemetry{
		TracerProvider: sdktrace.NewTracerProvider(topts...),
		MeterProvider:  sdkmetric.NewMeterProvider(mopts...),
	}
	t.Observer, err = New(append([]Option{WithTracerProvider(t.TracerProvider), WithMeterProvider(t.MeterProvider)}, cfg.Options...)...)
	if err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	return t, nil
}

// Shutdown flushes buffered spans and metrics and stops both providers
// (and the inbox depth callback). Deliveries observed afterwards are not
// exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.Observer != nil {
		errs = append(errs, t.Observer.Close())
	}
	errs = append(errs, t.TracerProvider.Shutdown(ctx), t.MeterProvider.Shutdown(ctx))
	return errors.Join(errs...)
}
