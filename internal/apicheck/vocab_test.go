package apicheck

import (
	"go/ast"
	"path/filepath"
	"strings"
	"testing"
)

// TestFakeBuildersTakeEventType: a test package's exported function or
// method that takes an event type takes its vendor's EventType, as
// symbotest.Event, sivotest.NewEvent, callsynctest.Sample and
// sirotest.Server.Payload do: a plain string parameter would make the
// package's own constants (callsync.EventCallLogged) need a conversion in
// that one builder.
func TestFakeBuildersTakeEventType(t *testing.T) {
	checked := 0
	for _, dir := range publicPackages(t) {
		pkg := filepath.Base(dir)
		if !strings.HasSuffix(pkg, "test") || pkg == "webhooktest" {
			continue
		}
		fset, files := parseDir(t, dir)
		for _, f := range files {
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() {
					continue
				}
				for _, field := range fd.Type.Params.List {
					for _, n := range field.Names {
						name := strings.ToLower(n.Name)
						if name != "typ" && name != "event" && name != "eventtype" {
							continue
						}
						checked++
						if id, ok := field.Type.(*ast.Ident); ok && id.Name == "string" {
							t.Errorf("%s: %s.%s takes the event type %s as a string; take the vendor's EventType",
								fset.Position(n.Pos()), pkg, fd.Name.Name, n.Name)
						}
					}
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("checked only %d event type parameters: is the walk broken?", checked)
	}
}
