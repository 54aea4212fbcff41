//go:build readmedeps

package readme

// The README snippets are compiled at test time from a string, so go mod
// tidy cannot see what they import: these blank imports keep those modules
// in this module's go.mod. The build tag keeps them out of every build.
import (
	_ "github.com/callcrm/callcrm-go/callsync"
	_ "github.com/callcrm/callcrm-go/engrami"
	_ "github.com/callcrm/callcrm-go/siro"
	_ "github.com/callcrm/callcrm-go/siro/sirosql"
	_ "github.com/callcrm/callcrm-go/sivo"
	_ "github.com/callcrm/callcrm-go/sivo/sivotest"
	_ "github.com/callcrm/callcrm-go/symbo"
	_ "github.com/callcrm/callcrm-go/webhook"
	_ "github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	_ "github.com/callcrm/callcrm-go/webhook/riverinbox"
	_ "github.com/callcrm/callcrm-go/webhook/sqldedupe"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/rivertype"
	_ "go.opentelemetry.io/otel/exporters/prometheus"
	_ "go.opentelemetry.io/otel/sdk/metric"
)
