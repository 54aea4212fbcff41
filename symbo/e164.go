package symbo

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidNumber is wrapped by ParseE164 errors.
var ErrInvalidNumber = errors.New("symbo: invalid phone number")

// ParseE164 normalises a phone number to E.164 ("+18005551212"). It accepts
// what Symbo's lookup can really deliver: "+18005551212", the same with the
// "+" decoded to a space by form decoding (" 18005551212"), and common
// formatting (spaces, dashes, dots, parentheses: "+1 (800) 555-1212"). It
// also accepts the international prefix "00". A number must have 7 to 15
// digits with a non-zero country code (E.164 allows up to 15; countries
// such as Niue, +683, have 4-digit subscriber numbers: "+6834002").
func ParseE164(s string) (string, error) {
	raw := s
	s = strings.TrimRight(s, " \t")
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, " "):
		// A literal "+" in a query string is decoded as a space.
		s = strings.TrimLeft(s, " ")
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	default:
		return "", fmt.Errorf("%w: %q does not start with + (E.164)", ErrInvalidNumber, raw)
	}
	var b strings.Builder
	b.Grow(16)
	b.WriteByte('+')
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if digits == 0 && r == '0' {
				return "", fmt.Errorf("%w: %q: country code cannot start with 0", ErrInvalidNumber, raw)
			}
			b.WriteRune(r)
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: %q contains %q", ErrInvalidNumber, raw, r)
		}
	}
	if digits < minE164Digits || digits > 15 {
		return "", fmt.Errorf("%w: %q has %d digits, E.164 allows %d to 15", ErrInvalidNumber, raw, digits, minE164Digits)
	}
	return b.String(), nil
}

// minE164Digits is the shortest number accepted: a country code and a
// short subscriber number (Niue's "+683 4002" has 7 digits).
const minE164Digits = 7

// IsE164 reports whether s is already in canonical E.164 form.
func IsE164(s string) bool {
	n, err := ParseE164(s)
	return err == nil && n == s
}
