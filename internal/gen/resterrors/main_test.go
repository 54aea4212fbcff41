package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesAreFresh fails when a vendor's zz_errors.go differs
// from what the template renders now: run `go generate ./siro ./engrami`.
func TestGeneratedFilesAreFresh(t *testing.T) {
	for name := range vendors {
		t.Run(name, func(t *testing.T) {
			want, err := render(name)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "..", name, "zz_errors.go")
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go generate ./%s)", err, name)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run go generate ./%s", path, name)
			}
		})
	}
}

// TestEveryVendorDeclaresGenerate checks that each generated package runs
// this generator from go generate, so the command above works.
func TestEveryVendorDeclaresGenerate(t *testing.T) {
	for name := range vendors {
		files, err := filepath.Glob(filepath.Join("..", "..", "..", name, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		directive := "//go:generate go run ../internal/gen/resterrors -vendor " + name + "\n"
		found := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), directive) {
				found = true
			}
		}
		if !found {
			t.Errorf("package %s has no %q", name, strings.TrimSpace(directive))
		}
	}
}

func TestRenderRejectsUnknownVendor(t *testing.T) {
	if _, err := render("nope"); err == nil || !strings.Contains(err.Error(), "engrami, siro") {
		t.Fatalf("render(nope) = %v, want an error naming the known vendors", err)
	}
}

func TestDocWraps(t *testing.T) {
	got := doc(1, strings.Repeat("word ", 40))
	for _, line := range strings.Split(got, "\n") {
		if !strings.HasPrefix(line, "\t// ") || len(line)+3 > 80 {
			t.Errorf("bad line %q", line)
		}
	}
}
