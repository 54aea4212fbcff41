// Package errtext reads an error's message for a log line, a span or a
// stored job error without trusting the error's Error method: a user's
// error type whose Error panics (a nil cause, say) must fail only its own
// delivery, never the engine, the inbox's job runner or the process.
package errtext

import "fmt"

// Of returns err.Error(), or err's type flagged "(its Error method
// panicked)" when Error panics. err must not be nil.
func Of(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T (its Error method panicked)", err)
		}
	}()
	return err.Error()
}
