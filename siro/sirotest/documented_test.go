package sirotest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type openAPI struct {
	Paths map[string]map[string]struct {
		Responses map[string]struct {
			Content map[string]any `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
}

func loadDoc(t *testing.T, org bool) openAPI {
	t.Helper()
	name := "siro-platform-api-openapi.json"
	if org {
		name = "siro-external-api-openapi.json"
	}
	b, err := os.ReadFile("../internal/spectest/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var d openAPI
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDocumentedTablesMatchDocuments keeps the fake's tables of documented
// operations and text/plain error answers equal to Siro's documents.
func TestDocumentedTablesMatchDocuments(t *testing.T) {
	wantOps, wantText := map[string]bool{}, map[string]bool{}
	for _, org := range []bool{true, false} {
		for path, ops := range loadDoc(t, org).Paths {
			for method, op := range ops {
				m := strings.ToUpper(method)
				switch m {
				case "GET", "POST", "PUT", "PATCH", "DELETE":
				default:
					continue
				}
				wantOps[key(org, m, path, "")] = true
				for st, r := range op.Responses {
					if _, ok := r.Content["text/plain"]; ok && st[0] != '2' {
						wantText[key(org, m, path, st)] = true
					}
				}
			}
		}
	}
	gotOps, gotText := map[string]bool{}, map[string]bool{}
	for _, d := range documented {
		gotOps[key(d.org, d.method, d.path, "")] = true
	}
	for _, a := range textAnswers {
		gotText[key(a.org, a.method, a.path, itoa(a.status))] = true
	}
	compare(t, "documented operations", wantOps, gotOps)
	compare(t, "text/plain answers", wantText, gotText)
	if len(wantOps) < 140 || len(wantText) < 10 {
		t.Fatalf("documents read wrong: %d operations, %d text answers", len(wantOps), len(wantText))
	}
}

func key(org bool, method, path, status string) string {
	h := "user"
	if org {
		h = "org"
	}
	return h + " " + method + " " + path + " " + status
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func compare(t *testing.T, what string, want, got map[string]bool) {
	t.Helper()
	for k := range want {
		if !got[k] {
			t.Errorf("%s: missing %s", what, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: %s is not in the documents", what, k)
		}
	}
}
