// Command resterrors writes the REST error and retry types, the
// ClientObserver interface and the transport options (WithHTTPClient,
// WithLogger, WithTimeout, WithClock, WithRetry, WithMaxRetries,
// WithObserver) of one vendor package (siro, engrami) from
// one template, so the packages share one source and `go doc` still shows
// each type whole in its own package.
//
// Run it through `go generate` in the vendor package:
//
//	//go:generate go run ../internal/gen/resterrors -vendor siro
//
// It writes zz_errors.go in the current directory.
package main

import (
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"go/format"
	"os"
	"sort"
	"strings"
	"text/template"
)

// vendor is what the template fills per vendor package.
type vendor struct {
	// Package is the Go package name.
	Package string
	// Name is the vendor's name in prose.
	Name string
	// Constructors lists the constructors whose bad options wrap
	// ErrInvalidOption.
	Constructors string
	// ErrorDoc says which answers become an *Error.
	ErrorDoc string
	// OperationExample and RouteExample illustrate Error's fields.
	OperationExample, RouteExample string
	// EmptyBody adds ErrEmptyBody (a 2xx answer with no result).
	EmptyBody bool
	// RetryWrites says when POST and PATCH are retried.
	RetryWrites string
	// RetryUsers names who uses DefaultRetry without WithRetry.
	RetryUsers string
	// ClockUses says what WithClock's clock times; ClockNote follows.
	ClockUses, ClockNote string
	// ObserverServices lists the services ClientObserver.StartCall gets;
	// ObserverOperation is an example operation name.
	ObserverServices, ObserverOperation string
}

// vendors is every package generated from the template.
var vendors = map[string]vendor{
	"siro": {
		Package:           "siro",
		Name:              "Siro",
		Constructors:      "NewClient, NewHandler and Middleware",
		ErrorDoc:          `Error is returned for every non-2xx answer, and for the 2xx answers of the CRM-link calls that carry {"error": ...}.`,
		OperationExample:  "Engagements.Get",
		RouteExample:      "/v1/integrations/engagements/{id}",
		EmptyBody:         true,
		RetryWrites:       "POST and PATCH only when nothing reached Siro.",
		RetryUsers:        "a client uses",
		ClockUses:         "token expiry and retry backoff",
		ClockNote:         " Give it before WithUserTokenSource.",
		ObserverServices:  `"siro-org" for the organization API and "siro-user" for the user API`,
		ObserverOperation: "Recordings.Details",
	},
	"engrami": {
		Package:           "engrami",
		Name:              "Engrami",
		Constructors:      "NewClient, NewSender and the handlers' constructors",
		ErrorDoc:          `Error is returned for every non-2xx answer and for {"success": false} bodies; Code, Message and Details come from Engrami's error envelope.`,
		OperationExample:  "Actions.Create",
		RouteExample:      "/integrations/actions/{id}",
		EmptyBody:         true,
		RetryWrites:       "POST and PATCH only with an Idempotency-Key (WithIdempotencyKey). MaxDelay also caps a 429's wait until X-RateLimit-Reset.",
		RetryUsers:        "a client and a Sender use",
		ClockUses:         "retry backoff",
		ObserverServices:  `"engrami"`,
		ObserverOperation: "Calls.Get",
	},
}

//go:embed errors.go.tmpl
var source string

var tmpl = template.Must(template.New("errors").Funcs(template.FuncMap{"doc": doc}).Parse(source))

// doc renders text as a comment, indented by indent tabs, wrapped before
// column 78.
func doc(indent int, text string) string {
	prefix := strings.Repeat("\t", indent) + "// "
	var b strings.Builder
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w)+4*indent+3 > 77 {
			b.WriteString(prefix + line + "\n")
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	b.WriteString(prefix + line)
	return b.String()
}

// render returns the gofmt'ed zz_errors.go of the named vendor.
func render(name string) ([]byte, error) {
	v, ok := vendors[name]
	if !ok {
		names := make([]string, 0, len(vendors))
		for n := range vendors {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown vendor %q (have %s)", name, strings.Join(names, ", "))
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return nil, err
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt %s: %w", name, err)
	}
	return out, nil
}

func main() {
	name := flag.String("vendor", "", "vendor package to generate (siro, engrami)")
	out := flag.String("o", "zz_errors.go", "output file")
	flag.Parse()
	src, err := render(*name)
	if err == nil {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "resterrors:", err)
		os.Exit(1)
	}
}
