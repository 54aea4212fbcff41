package otelcallcrm_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
)

// Wire the adapter in production: metrics scraped by Prometheus from
// /metrics through the OTel Prometheus exporter, spans to an exporter of
// your choice (SpanExporters; Stdout for development). Pass tel.Observer
// to every receiver (webhook.WithObserver), inbox
// (riverinbox.WithObserver, webhook.WithInboxObserver) and client
// (siro.WithObserver, engrami.WithObserver).
func Example() {
	ctx := context.Background()
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer with promhttp.Handler()
	prom, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		log.Fatal(err)
	}
	tel, err := otelcallcrm.Setup(ctx, otelcallcrm.SetupConfig{
		ServiceName:   "crm-backend",
		MetricReaders: []sdkmetric.Reader{prom},
		Options: []otelcallcrm.Option{
			// The inbox depth lives in its database: count it at each scrape.
			otelcallcrm.WithInboxDepth(func(ctx context.Context) (int64, error) { return 3, nil }),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A client call the way siro's client reports it.
	callCtx, end := tel.Observer.StartCall(ctx, "siro", "ListCalls")
	_, endAttempt := tel.Observer.StartAttempt(callCtx, http.MethodGet, 1)
	endAttempt(http.StatusOK, nil, 0)
	end(http.StatusOK, nil)

	printScrape(srv.URL+"/metrics", "callcrm_inbox_depth", "callcrm_client_requests_total{")
	// Output:
	// callcrm_client_requests_total{callcrm_operation="ListCalls",callcrm_service="siro",http_response_status_code="200"} 1
	// callcrm_inbox_depth 3
}

// printScrape prints the lines of a Prometheus scrape of url that start
// with one of prefixes.
func printScrape(url string, prefixes ...string) {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for _, p := range prefixes {
			if line := sc.Text(); strings.HasPrefix(line, p) {
				fmt.Println(line)
				break
			}
		}
	}
}
