package apicheck

import (
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestFakeServersShareMethodShapes: a method both fake servers have by
// one name has one shape (Fail, Close, RequestCount, ...), so knowing one
// fake is knowing the other; the methods they share are at least those.
// Client differs by design: it takes its vendor's Option.
func TestFakeServersShareMethodShapes(t *testing.T) {
	siro, engrami := reflect.TypeOf(&sirotest.Server{}), reflect.TypeOf(&engramitest.Server{})
	embedded := reflect.TypeOf(&httptest.Server{})
	shared := map[string]bool{}
	for i := range siro.NumMethod() {
		a := siro.Method(i)
		b, ok := engrami.MethodByName(a.Name)
		if _, fromHTTPTest := embedded.MethodByName(a.Name); !ok || a.Name == "Client" || fromHTTPTest {
			continue
		}
		shared[a.Name] = true
		if !sameShape(a.Type, b.Type) {
			t.Errorf("%s: sirotest's is %v, engramitest's is %v", a.Name, a.Type, b.Type)
		}
	}
	for _, name := range []string{"Fail", "RequestCount"} {
		if !shared[name] {
			t.Errorf("%s: not a method of both fakes", name)
		}
	}
}

// sameShape compares two method types (receiver first) by the kinds of
// their parameters and results.
func sameShape(a, b reflect.Type) bool {
	if a.NumIn() != b.NumIn() || a.NumOut() != b.NumOut() || a.IsVariadic() != b.IsVariadic() {
		return false
	}
	for i := 1; i < a.NumIn(); i++ {
		if a.In(i).Kind() != b.In(i).Kind() {
			return false
		}
	}
	for i := range a.NumOut() {
		if a.Out(i).Kind() != b.Out(i).Kind() {
			return false
		}
	}
	return true
}
