package webhook

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// TestConfigOnlyKnowsEveryOption: Config.Only (which endpoints such as
// Symbo's contact lookup and Engrami's tool endpoint use to refuse options
// they cannot apply) knows every Option this package offers: each one
// given to an endpoint that does not allow it fails, naming it, and is
// accepted when allowed. A new Option must be added here and to Only.
func TestConfigOnlyKnowsEveryOption(t *testing.T) {
	d, err := NewMemoryDedupe(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewMemoryInbox(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]Option{
		"WithTolerance":              WithTolerance(time.Minute),
		"InsecureSkipTimestampCheck": InsecureSkipTimestampCheck(),
		"WithClock":                  WithClock(clock.Real{}),
		"WithLogger":                 WithLogger(slog.New(slog.DiscardHandler)),
		"WithDedupe":                 WithDedupe(d),
		"WithMaxBodyBytes":           WithMaxBodyBytes(10),
		"WithErrorHook":              WithErrorHook(func(*http.Request, error) {}),
		"WithTimeout":                WithTimeout(time.Second),
		"WithInbox":                  WithInbox(in),
		"WithName":                   WithName("n"),
		"WithReadTimeout":            WithReadTimeout(time.Second),
		"WithStoreTimeout":           WithStoreTimeout(time.Second),
		"WithKey":                    WithKey(DefaultKey),
	}
	// Every exported func of this package returning Option, except the
	// two that carry other settings (checked by OnlyExtensions) or errors.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range af.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); !ok || id.Name != "Option" {
				continue
			}
			if fn.Name.Name == "WithExtension" || fn.Name.Name == "OptionError" {
				continue
			}
			if _, ok := opts[fn.Name.Name]; !ok {
				t.Errorf("%s returns an Option this test (and Config.Only) does not know", fn.Name.Name)
			}
		}
	}
	for name, o := range opts {
		c, err := NewConfig(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = c.Only("the test endpoint", "WithSomethingElse")
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "the test endpoint") {
			t.Errorf("%s not refused by name: %v", name, err)
		}
		if err := c.Only("the test endpoint", name); err != nil {
			t.Errorf("%s refused although allowed: %v", name, err)
		}
	}
	c, _ := NewConfig()
	if err := c.Only("the test endpoint"); err != nil {
		t.Errorf("no options: %v", err)
	}
}
