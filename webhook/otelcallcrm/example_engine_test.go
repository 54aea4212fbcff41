package otelcallcrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
)

// One SIVO delivery seen in production: its trace on stdout (here a
// buffer, summarized) and its metrics on /metrics.
func Example_sivoDelivery() {
	ctx := context.Background()
	var traces bytes.Buffer
	reg := prometheus.NewRegistry()
	prom, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		log.Fatal(err)
	}
	tel, err := otelcallcrm.Setup(ctx, otelcallcrm.SetupConfig{
		ServiceName:   "crm-backend",
		Stdout:        &traces, // os.Stdout in development
		MetricReaders: []sdkmetric.Reader{prom},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()

	const secret = "sivo-signing-secret"
	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, call *sivo.CallEnded) error { return nil },
	}, webhook.WithObserver(tel.Observer))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/sivo", h)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	sender, err := sivotest.NewSender(secret)
	if err != nil {
		log.Fatal(err)
	}
	ev, err := sivotest.CallEnded("evt_1", time.Now(), sivo.CallEnded{CallID: "call_1"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := sender.Deliver(ctx, srv.URL+"/webhooks/sivo", ev.Raw); err != nil {
		log.Fatal(err)
	}

	// The trace: one JSON object per span, children first.
	dec := json.NewDecoder(&traces)
	for {
		var span struct {
			Name       string
			Attributes []struct {
				Key   string
				Value struct{ Value any }
			}
		}
		if err := dec.Decode(&span); err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		var kv []string
		for _, a := range span.Attributes {
			kv = append(kv, fmt.Sprintf("%s=%v", a.Key, a.Value.Value))
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintf("span %q %s", span.Name, strings.Join(kv, " "))))
	}

	printScrape(srv.URL+"/metrics", "callcrm_webhook_deliveries_total", "callcrm_webhook_callback_duration_seconds_count")
	// Output:
	// span "webhook verify"
	// span "webhook store reserve"
	// span "webhook callback" callcrm.outcome=processed callcrm.event.type=call.ended
	// span "webhook store commit"
	// span "webhook receive sivo" callcrm.provider=sivo callcrm.receiver=default callcrm.outcome=processed callcrm.delivery.id=evt_1 callcrm.event.type=call.ended http.response.status_code=200
	// callcrm_webhook_callback_duration_seconds_count{callcrm_outcome="processed",callcrm_provider="sivo",callcrm_receiver="default"} 1
	// callcrm_webhook_deliveries_total{callcrm_outcome="processed",callcrm_provider="sivo",callcrm_receiver="default",http_response_status_code="200"} 1
}
