package apicheck

import (
	"bufio"
	"go/ast"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pkgDecls is what a public package declares, by name.
type pkgDecls struct {
	funcs   map[string]bool
	types   map[string]*ast.TypeSpec
	values  map[string]bool
	methods map[string]map[string]bool // type -> method names
	typed   map[string]int             // type name -> constants declared with it
}

func declsOf(t *testing.T, dir string) *pkgDecls {
	t.Helper()
	d := &pkgDecls{funcs: map[string]bool{}, types: map[string]*ast.TypeSpec{}, values: map[string]bool{},
		methods: map[string]map[string]bool{}, typed: map[string]int{}}
	_, files := parseDir(t, dir)
	for _, f := range files {
		for _, decl := range f.Decls {
			switch x := decl.(type) {
			case *ast.FuncDecl:
				if x.Recv == nil {
					d.funcs[x.Name.Name] = true
					continue
				}
				r := recvName(x.Recv)
				if d.methods[r] == nil {
					d.methods[r] = map[string]bool{}
				}
				d.methods[r][x.Name.Name] = true
			case *ast.GenDecl:
				for _, s := range x.Specs {
					switch sp := s.(type) {
					case *ast.TypeSpec:
						d.types[sp.Name.Name] = sp
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							d.values[n.Name] = true
						}
						if id, ok := sp.Type.(*ast.Ident); ok && x.Tok == token.CONST {
							d.typed[id.Name] += len(sp.Names)
						}
					}
				}
			}
		}
	}
	return d
}

// field returns the type of an exported field of struct type typ.
func (d *pkgDecls) field(typ, name string) (ast.Expr, bool) {
	ts, ok := d.types[typ]
	if !ok {
		return nil, false
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil, false
	}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.Name == name {
				return f.Type, true
			}
		}
	}
	return nil, false
}

var qualified = regexp.MustCompile("`([a-z]+)\\.([A-Z][A-Za-z0-9]*)(?:\\.([A-Z][A-Za-z0-9]*))?`")

// TestSameInEveryPackageTable keeps README's "The same in every package"
// table true: every identifier it names exists, and the rows that claim a
// shape have it (the event type field is of the package's EventType, which
// has constants; the callback type is a type the package's Callbacks use;
// a constructor is a function).
func TestSameInEveryPackageTable(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeTable(t, filepath.Join(root, "README.md"), "### The same in every package")
	dirs := map[string]string{}
	for _, dir := range publicPackages(t) {
		base := filepath.Base(dir)
		if prev, dup := dirs[base]; dup {
			t.Fatalf("two public packages named %s (%s, %s): the table's names are ambiguous", base, prev, dir)
		}
		dirs[base] = dir
	}
	cache := map[string]*pkgDecls{}
	decls := func(pkg string) *pkgDecls {
		if d, ok := cache[pkg]; ok {
			return d
		}
		dir, ok := dirs[pkg]
		if !ok {
			return nil
		}
		cache[pkg] = declsOf(t, dir)
		return cache[pkg]
	}
	for _, want := range []string{"Constructor", "Callback type", "Event type field", "Typed event constants", "Fake sender",
		"Bad option (errors.Is)", "Not found"} {
		if _, ok := rows[want]; !ok {
			t.Errorf("README table has no %q row", want)
		}
	}
	checked := 0
	for row, cells := range rows {
		for col, cell := range cells {
			for _, m := range qualified.FindAllStringSubmatch(cell, -1) {
				pkg, name, member := m[1], m[2], m[3]
				where := row + " / column " + string(rune('1'+col)) + ": " + strings.Trim(m[0], "`")
				d := decls(pkg)
				if d == nil {
					t.Errorf("%s: no public package %s", where, pkg)
					continue
				}
				checked++
				if member != "" {
					typ, isField := d.field(name, member)
					if !isField && !d.methods[name][member] {
						t.Errorf("%s: %s.%s has no field or method %s", where, pkg, name, member)
						continue
					}
					if row == "Event type field" {
						if id, ok := typ.(*ast.Ident); !ok || id.Name != "EventType" {
							t.Errorf("%s: the field is not of type %s.EventType", where, pkg)
						}
						if d.typed["EventType"] == 0 {
							t.Errorf("%s: %s declares no EventType constants", where, pkg)
						}
					}
					continue
				}
				_, isType := d.types[name]
				if !d.funcs[name] && !isType && !d.values[name] {
					t.Errorf("%s: %s.%s does not exist", where, pkg, name)
					continue
				}
				switch row {
				case "Constructor":
					if !d.funcs[name] {
						t.Errorf("%s: not a function", where)
					}
				case "Typed event constants":
					if !isType || d.typed[name] < 2 {
						t.Errorf("%s: not a type with event constants (%d declared)", where, d.typed[name])
					}
				case "Callback type":
					if !isType || !usesType(d, "Callbacks", name) {
						t.Errorf("%s: not a type the package's Callbacks use", where)
					}
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked only %d names in the table: is the README parse broken?", checked)
	}
}

// usesType reports whether struct typ has a field of type name.
func usesType(d *pkgDecls, typ, name string) bool {
	ts, ok := d.types[typ]
	if !ok {
		return false
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return false
	}
	for _, f := range st.Fields.List {
		if id, ok := f.Type.(*ast.Ident); ok && id.Name == name {
			return true
		}
	}
	return false
}

// readmeTable returns the Markdown table under heading, by row label.
func readmeTable(t *testing.T, path, heading string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string][]string{}
	in, inTable := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == heading:
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in && strings.HasPrefix(line, "|"):
			inTable = true
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if len(cells) < 2 || cells[0] == "" || strings.HasPrefix(cells[0], "---") {
				continue
			}
			rows[cells[0]] = cells[1:]
		case in && inTable && line == "":
			in = false
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no table under %q", path, heading)
	}
	return rows
}

// notRouted lists the event constants a vendor package keeps out of its
// routes table, with why.
var notRouted = map[string]string{
	"symbo.EventProspectCreated":   "not a call event: its raw event goes to Callbacks.ProspectCreated",
	"symbo.EventCallContactLookup": "a GET NewLookupHandler serves, never a webhook",
}

// TestEveryEventTypeIsRouted: in every package that declares EventType
// constants and a routes table, every constant is a key of the table (or
// listed in notRouted with its reason), so a documented event cannot be
// added without a callback.
func TestEveryEventTypeIsRouted(t *testing.T) {
	tables := 0
	for _, dir := range publicPackages(t) {
		pkg := filepath.Base(dir)
		_, files := parseDir(t, dir)
		var consts []string
		keys := map[string]bool{}
		hasTable := false
		for _, f := range files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, s := range gd.Specs {
					vs, ok := s.(*ast.ValueSpec)
					if !ok {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && gd.Tok == token.CONST && id.Name == "EventType" {
						for _, n := range vs.Names {
							consts = append(consts, n.Name)
						}
					}
					for i, n := range vs.Names {
						if n.Name != "routes" || i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.CompositeLit)
						if !ok {
							continue
						}
						hasTable = true
						for _, el := range lit.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								if id, ok := kv.Key.(*ast.Ident); ok {
									keys[id.Name] = true
								}
							}
						}
					}
				}
			}
		}
		if len(consts) == 0 {
			continue
		}
		if !hasTable {
			t.Errorf("%s declares EventType constants but no routes table", pkg)
			continue
		}
		tables++
		for _, c := range consts {
			if !keys[c] && notRouted[pkg+"."+c] == "" {
				t.Errorf("%s.%s is not in %s's routes table", pkg, c, pkg)
			}
		}
	}
	if tables < 4 {
		t.Fatalf("found %d routes tables, want one per receiving vendor (4)", tables)
	}
}
