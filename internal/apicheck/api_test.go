// Package apicheck holds repository-wide checks of the public API.
package apicheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// publicPackages returns the directories of every public package: all of
// the module except internal/, examples/ and testdata.
func publicPackages(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	var dirs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" ||
			base == "internal" || rel == "examples") {
			return filepath.SkipDir
		}
		matches, _ := filepath.Glob(filepath.Join(path, "*.go"))
		for _, m := range matches {
			if !strings.HasSuffix(m, "_test.go") {
				dirs = append(dirs, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	return dirs
}

func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var files []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// TestNoExportedAliasOfInternalType fails on `type X = internalpkg.Y` and
// `var X = internalpkg.Y` in a public package: go doc and pkg.go.dev would
// show X without its fields, or point at a value users cannot look up.
//
// One exception: a sentinel error of internal/apierr re-exported with its
// own doc comment (`// ErrNotFound matches 404 answers.` then
// `ErrNotFound = apierr.ErrNotFound`). A sentinel has no fields; its
// meaning is its comment, which go doc shows beside the name, and sharing
// the value is what makes siro's and engrami's sentinels one per meaning.
func TestNoExportedAliasOfInternalType(t *testing.T) {
	checked := 0
	for _, dir := range publicPackages(t) {
		fset, files := parseDir(t, dir)
		for _, f := range files {
			internal := internalImports(f)
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if ok && (gd.Tok == token.VAR || gd.Tok == token.CONST) {
					// `var ErrX = core.ErrX` exports an internal value under
					// another name: go doc shows only the internal name.
					for _, spec := range gd.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, n := range vs.Names {
							if !n.IsExported() || i >= len(vs.Values) {
								continue
							}
							if sel, ok := vs.Values[i].(*ast.SelectorExpr); ok {
								if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] {
									if id.Name == "apierr" && (vs.Doc != nil || len(gd.Specs) == 1 && gd.Doc != nil) {
										continue // a documented shared sentinel
									}
									t.Errorf("%s: exported %s is an alias of the internal %s.%s; declare its own value",
										fset.Position(n.Pos()), n.Name, id.Name, sel.Sel.Name)
								}
							}
						}
					}
					continue
				}
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					checked++
					if !ts.Name.IsExported() || !ts.Assign.IsValid() {
						continue
					}
					if refersTo(ts.Type, internal) {
						t.Errorf("%s: exported %s is an alias of an internal type; declare it here so go doc shows it whole",
							fset.Position(ts.Pos()), ts.Name.Name)
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d type declarations: is the walk broken?", checked)
	}
}

func refersTo(e ast.Expr, pkgs map[string]bool) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && pkgs[id.Name] {
				found = true
			}
		}
		return !found
	})
	return found
}

// TestExportedIdentifiersHaveDocComments fails on an exported function,
// method (of an exported type), type, constant or variable without a doc
// comment. A constant or variable inside a commented group, or with a
// comment on its line, counts as documented.
func TestExportedIdentifiersHaveDocComments(t *testing.T) {
	var missing []string
	count := 0
	for _, dir := range publicPackages(t) {
		fset, files := parseDir(t, dir)
		exportedTypes := exportedTypeNames(files)
		for _, f := range files {
			walkExported(f, exportedTypes, exported{
				fn: func(d *ast.FuncDecl) {
					count++
					if d.Doc == nil {
						missing = append(missing, fset.Position(d.Pos()).String()+": "+funcName(d))
					}
				},
				typ: func(d *ast.GenDecl, sp *ast.TypeSpec) {
					count++
					if sp.Doc == nil && d.Doc == nil {
						missing = append(missing, fset.Position(sp.Pos()).String()+": type "+sp.Name.Name)
					}
				},
				value: func(d *ast.GenDecl, sp *ast.ValueSpec, n *ast.Ident) {
					count++
					if sp.Doc == nil && d.Doc == nil && sp.Comment == nil {
						missing = append(missing, fset.Position(n.Pos()).String()+": "+n.Name)
					}
				},
			})
		}
	}
	for _, m := range missing {
		t.Errorf("no doc comment: %s", m)
	}
	if count < 200 {
		t.Fatalf("checked only %d exported identifiers: is the walk broken?", count)
	}
	t.Logf("%d exported identifiers documented", count)
}

// exportedTypeNames returns the exported type names files declare.
func exportedTypeNames(files []*ast.File) map[string]bool {
	names := map[string]bool{}
	for _, f := range files {
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, s := range gd.Specs {
					if ts := s.(*ast.TypeSpec); ts.Name.IsExported() {
						names[ts.Name.Name] = true
					}
				}
			}
		}
	}
	return names
}

// exported visits a file's exported declarations (walkExported).
type exported struct {
	fn    func(d *ast.FuncDecl)                                 // a function, or a method of an exported type
	typ   func(d *ast.GenDecl, sp *ast.TypeSpec)                // a type
	value func(d *ast.GenDecl, sp *ast.ValueSpec, n *ast.Ident) // a constant or variable
}

// walkExported calls v for each exported declaration of f, in order; a
// method only when its receiver is among exportedTypes.
func walkExported(f *ast.File, exportedTypes map[string]bool, v exported) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && (d.Recv == nil || exportedTypes[recvName(d.Recv)]) {
				v.fn(d)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch sp := s.(type) {
				case *ast.TypeSpec:
					if sp.Name.IsExported() {
						v.typ(d, sp)
					}
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						if n.IsExported() {
							v.value(d, sp, n)
						}
					}
				}
			}
		}
	}
}

// funcName is "F" for a function, "T.M" for a method.
func funcName(d *ast.FuncDecl) string {
	if d.Recv != nil {
		return recvName(d.Recv) + "." + d.Name.Name
	}
	return d.Name.Name
}

func recvName(fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	return embeddedName(fl.List[0].Type) // T, *T or T[P]: never pkg.T
}

// TestNoExportedSignatureMentionsInternalType fails when the exported API
// of a public package mentions a type of an internal package: a parameter
// or result of an exported function or method (of an exported type), an
// exported field (or embedded type) of an exported struct, a method of an
// exported interface, the definition of an exported non-struct type (type
// F func(*core.Request)), or the type of an exported variable. go doc shows
// such a name without anything a user can look up or construct.
func TestNoExportedSignatureMentionsInternalType(t *testing.T) {
	checked := 0
	for _, dir := range publicPackages(t) {
		fset, files := parseDir(t, dir)
		exportedTypes := exportedTypeNames(files)
		for _, f := range files {
			internal := internalImports(f)
			if len(internal) == 0 {
				continue
			}
			report := func(pos token.Pos, what string, e ast.Expr) {
				checked++
				if e != nil && refersTo(e, internal) {
					t.Errorf("%s: %s mentions an internal package's type; give it a type of this package so go doc is whole",
						fset.Position(pos), what)
				}
			}
			fields := func(owner string, fl *ast.FieldList) {
				if fl == nil {
					return
				}
				for _, fd := range fl.List {
					report(fd.Pos(), owner, fd.Type)
				}
			}
			walkExported(f, exportedTypes, exported{
				fn: func(d *ast.FuncDecl) {
					name := funcName(d)
					fields("func "+name, d.Type.TypeParams)
					fields("func "+name, d.Type.Params)
					fields("func "+name, d.Type.Results)
				},
				typ: func(_ *ast.GenDecl, sp *ast.TypeSpec) {
					fields("type "+sp.Name.Name, sp.TypeParams)
					switch ty := sp.Type.(type) {
					case *ast.StructType:
						for _, fd := range ty.Fields.List {
							if len(fd.Names) == 0 {
								// An embedded field is exported when its type name is.
								if name := embeddedName(fd.Type); ast.IsExported(name) {
									report(fd.Pos(), "embedded "+sp.Name.Name+"."+name, fd.Type)
								}
								continue
							}
							for _, n := range fd.Names {
								if n.IsExported() {
									report(n.Pos(), "field "+sp.Name.Name+"."+n.Name, fd.Type)
								}
							}
						}
					case *ast.InterfaceType:
						for _, m := range ty.Methods.List {
							if len(m.Names) == 0 || m.Names[0].IsExported() {
								report(m.Pos(), "interface "+sp.Name.Name, m.Type)
							}
						}
					default:
						report(sp.Pos(), "type "+sp.Name.Name, sp.Type)
					}
				},
				value: func(_ *ast.GenDecl, sp *ast.ValueSpec, n *ast.Ident) {
					if sp.Type != nil {
						report(n.Pos(), n.Name, sp.Type)
					}
				},
			})
		}
	}
	if checked < 100 {
		t.Fatalf("checked only %d exported signatures: is the walk broken?", checked)
	}
}

// internalImports returns the local names of f's imports of internal
// packages.
func internalImports(f *ast.File) map[string]bool {
	internal := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !strings.Contains(path, "/internal/") && !strings.HasSuffix(path, "/internal") {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		internal[name] = true
	}
	return internal
}

// embeddedName is the type name of an embedded field or a receiver (T,
// *T, pkg.T, T[P]).
func embeddedName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel.Name
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
