package testkit

import (
	"fmt"
	"strings"
	"testing"
)

// Verbs are the fmt verbs a value holding a secret must print redacted.
var Verbs = []string{"%v", "%+v", "%#v", "%s"}

// FormatsRedacted fails t unless every value prints, with every one of
// Verbs, without secret and with the word "redacted".
func FormatsRedacted(t testing.TB, secret string, values ...any) {
	t.Helper()
	for _, v := range values {
		for _, verb := range Verbs {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, secret) {
				t.Errorf("%T printed with %s shows the secret: %s", v, verb, out)
			}
			if !strings.Contains(out, "redacted") {
				t.Errorf("%T printed with %s does not say it is redacted: %s", v, verb, out)
			}
		}
	}
}

// NoSecret fails t when any of outputs (named by its key: "logs",
// "error", ...) contains any of secrets.
func NoSecret(t testing.TB, outputs map[string]string, secrets ...string) {
	t.Helper()
	for what, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("the %s show a secret (%d bytes): %s", what, len(s), out)
			}
		}
	}
}
