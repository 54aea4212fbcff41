// Package readme compiles every Go snippet in the repository's README, so
// the documentation cannot drift from the API.
package readme

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const preamble = `package snippets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirosql"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/callcrm/callcrm-go/webhook/sqldedupe"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// What the snippets assume the reader has.
type crmStore interface {
	WriteBack(ctx context.Context, engagementExternalID, summary string, fields map[string]string) error
	ContactByPhone(ctx context.Context, number string) (*symbo.Contact, error)
	SaveCall(ctx context.Context, callID string) error
}

var (
	crm crmStore
	mux = http.NewServeMux()
	db  *sql.DB
	_   = errors.Is
	_   = log.Print
	_   = slog.Default
	_   = json.Unmarshal
	_   *pgxpool.Pool
	_   pgx.Tx
	_   = river.NewJobListParams
	_   = rivertype.JobStateDiscarded
	_   = riverinbox.Kind
	_   = otelcallcrm.New
	_   = promhttp.Handler
	_   = otelprom.New
	_   sdkmetric.Reader
	_   testing.T
)
`

func TestREADMESnippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) < 10 {
		t.Fatalf("found %d Go snippets in README.md, expected at least 10", len(blocks))
	}
	var src bytes.Buffer
	src.WriteString(preamble)
	for _, b := range blocks {
		code := string(b[1])
		if !strings.HasPrefix(strings.TrimSpace(code), "func ") {
			t.Fatalf("README snippet is not a function declaration:\n%s", code)
		}
		src.WriteString("\n" + code)
	}
	dir, err := os.MkdirTemp(".", "_snippets")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "snippets.go"), src.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	out, err := exec.Command(gobin, "vet", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("README snippets do not compile:\n%s", out)
	}
}
