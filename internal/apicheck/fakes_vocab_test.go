package apicheck

import (
	"reflect"
	"testing"

	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestFakeServersShareMethodShapes: a method both fake servers have by
// one name has one shape (Fail, Close, Requests), so knowing one fake is
// knowing the other. Client differs by design: it takes its vendor's
// Option.
func TestFakeServersShareMethodShapes(t *testing.T) {
	t.Skip("known: sirotest.Server.Requests() int64 counts requests, engramitest.Server.Requests() []Request lists them; " +
		"aligning them is a breaking rename left for a decision (sirotest.Server.RequestCount, or a recorded list in sirotest)")
	siro, engrami := reflect.TypeOf(&sirotest.Server{}), reflect.TypeOf(&engramitest.Server{})
	for _, name := range []string{"Fail", "Close", "Requests"} {
		a, okA := siro.MethodByName(name)
		b, okB := engrami.MethodByName(name)
		if !okA || !okB {
			t.Errorf("%s: sirotest has it %v, engramitest has it %v", name, okA, okB)
			continue
		}
		if a.Type.NumOut() != b.Type.NumOut() || (a.Type.NumOut() > 0 && a.Type.Out(0).Kind() != b.Type.Out(0).Kind()) {
			t.Errorf("%s: sirotest's is %v, engramitest's is %v", name, a.Type, b.Type)
		}
	}
}
