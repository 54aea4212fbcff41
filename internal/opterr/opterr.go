// Package opterr builds the constructor and option errors of the public
// packages: one text shape, "<package>: <option or field>: <problem>", that
// still matches the sentinels (ErrInvalidOption, webhook.ErrInvalidSecret,
// ...) with errors.Is.
package opterr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is a constructor error with its own text that unwraps to the error
// it describes.
type Error struct {
	msg string
	err error
}

// Error returns the text.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the sentinel or the original error.
func (e *Error) Unwrap() error { return e.err }

// New returns "<pkg>: <where>: <problem>" matching sentinel.
func New(pkg, where string, sentinel error, format string, args ...any) error {
	return &Error{msg: pkg + ": " + where + ": " + fmt.Sprintf(format, args...), err: sentinel}
}

// prefixes are the sentinel texts another layer put before a problem.
var prefixes = []string{
	"webhook: invalid secret: ", "webhook: invalid option: ", "invalid option: ", "invalid secret: ", "webhook: ",
}

// Rewrap re-labels err, an error of package webhook or internal/core, as
// "<pkg>: <where>: <problem>", keeping every errors.Is match. secrets is
// the number of secrets the caller gave: with one, "secret 0 is empty"
// reads "secret is empty". A nil err stays nil.
func Rewrap(pkg, where string, err error, secrets int) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) && strings.HasPrefix(own.msg, pkg+": ") {
		return own
	}
	msg := err.Error()
	for changed := true; changed; {
		changed = false
		for _, p := range append(prefixes, pkg+": ") {
			if strings.HasPrefix(msg, p) {
				msg, changed = strings.TrimPrefix(msg, p), true
			}
		}
	}
	if secrets == 1 {
		msg = strings.Replace(msg, "secret 0 ", "secret ", 1)
	}
	return &Error{msg: pkg + ": " + where + ": " + msg, err: err}
}

// Positive is an option of package pkg, named where, setting v (a what:
// "ttl", "lease") with set; v must be positive, else the error reads
// "<pkg>: <where>: <what> <v> must be positive" and matches sentinel.
func Positive[S any, T int | int64 | time.Duration](pkg, where string, sentinel error, what string, v T, set func(*S)) func(*S) error {
	return func(s *S) error {
		if v <= 0 {
			return New(pkg, where, sentinel, "%s %v must be positive", what, v)
		}
		set(s)
		return nil
	}
}

// NotNil is an option of package pkg, named where, setting a what with
// set; isNil says the value given is nil, an error matching sentinel.
func NotNil[S any](pkg, where string, sentinel error, what string, isNil bool, set func(*S)) func(*S) error {
	return func(s *S) error {
		if isNil {
			return New(pkg, where, sentinel, "%s is nil", what)
		}
		set(s)
		return nil
	}
}
