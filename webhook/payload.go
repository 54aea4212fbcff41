package webhook

// Lenient payload types. They live here, in the one package every vendor
// receiver shares, because the same looseness (numbers sent as strings,
// timestamps with typos or without a zone) shows up across vendors and a
// field of the same meaning should have the same type in every package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Int is an integer a vendor sends as a JSON number or a numeric string.
// It decodes a JSON number or a string holding an integer ("124") into
// an int64; null and "" decode to zero with Valid false. Anything else is a
// *json.UnmarshalTypeError naming the value, and the field when
// encoding/json decodes a struct ("Go struct field Call.duration_total").
type Int struct {
	Value int64
	// Valid is false when the field was null, empty or absent.
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	*n = Int{}
	s, present, err := numberText(b)
	if err != nil || !present {
		return err
	}
	if !decimalText(s) {
		return typeError(b, "not an integer or a numeric string", reflect.TypeFor[Int]())
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return typeError(b, "an integer out of the int64 range", reflect.TypeFor[Int]())
	}
	if err != nil {
		// Accept integral floats such as 124.0 and 1e3, inside the int64
		// range (2^63 itself is not: converting it is undefined).
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return typeError(b, "not an integer or a numeric string", reflect.TypeFor[Int]())
		}
		v = int64(f)
	}
	*n = Int{Value: v, Valid: true}
	return nil
}

// MarshalJSON writes a number, or null when not Valid.
func (n Int) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Value, 10), nil
}

// String returns the decimal value, or "" when not Valid.
func (n Int) String() string {
	if !n.Valid {
		return ""
	}
	return strconv.FormatInt(n.Value, 10)
}

// ID decodes a JSON string or number into a string ("88231" either way;
// any string is an ID, "call-88231" too). Anything else (true, an object)
// is a *json.UnmarshalTypeError naming the value and, inside a struct,
// the field.
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*id = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
	default:
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			return typeError(b, "not a string or a number", reflect.TypeFor[ID]())
		}
		*id = ID(num.String())
	}
	return nil
}

// Time is the one timestamp type of this module, in every vendor's
// events, requests and answers. It decodes leniently: RFC 3339 with or
// without fractional seconds, a space instead of "T", and no zone at all
// (read as UTC, as SIVO's "2026-05-20 10:23:45"). A value that does not
// parse (such as Symbo's sample "023-01-11T20:19:40.000Z") keeps its raw
// text with Valid false instead of failing the whole event or answer.
// Embedding time.Time gives it every time.Time method (IsZero, Before,
// Format, ...).
type Time struct {
	// Time is the parsed instant (zero when not Valid).
	time.Time
	// Raw is the string as received; empty for a Time you built.
	Raw string
	// Valid is true when Raw parsed, or for a Time built with NewTime
	// from a non-zero instant.
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler; it fails only on JSON that is
// not a string or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	*t = Time{}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("webhook: timestamp %.40s is not a string", string(b))
	}
	s, err := jsonText(b)
	if err != nil {
		return fmt.Errorf("webhook: timestamp %.40s is not a string", string(b))
	}
	t.Raw = s
	if p, ok := parseTime(s); ok {
		t.Time, t.Valid = p, true
	}
	return nil
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if p, err := time.Parse(layout, s); err == nil && p.Year() >= 1000 {
			return p, true
		}
	}
	return time.Time{}, false
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// wireLayout is how a Time without its received text is written: UTC with
// milliseconds, the form the vendors' references use.
const wireLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the text as received when it still names the instant
// held (so a vendor's value round-trips), the instant in UTC with
// milliseconds otherwise, the raw text of a value that did not parse, and
// null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	switch {
	case t.Unparsed():
		return json.Marshal(t.Raw)
	case t.Time.IsZero() && !t.Valid:
		return []byte("null"), nil
	case t.Raw != "":
		if p, ok := parseTime(t.Raw); ok && p.Equal(t.Time) {
			return json.Marshal(t.Raw)
		}
	}
	return json.Marshal(t.UTC().Format(wireLayout))
}

// EncodeValues writes the instant in UTC with milliseconds as a query
// parameter (the go-querystring encoder interface); the zero Time writes
// nothing.
func (t Time) EncodeValues(key string, v *url.Values) error {
	if t.Time.IsZero() {
		return nil
	}
	v.Set(key, t.UTC().Format(wireLayout))
	return nil
}

// Unparsed reports a non-empty value that is not a valid timestamp.
func (t Time) Unparsed() bool { return t.Raw != "" && !t.Valid }

// NewTime returns a valid Time for tm. The zero time.Time gives the zero
// Time, written as null: year 1 is no vendor's timestamp, and its text
// would not decode as one.
func NewTime(tm time.Time) Time {
	if tm.IsZero() {
		return Time{}
	}
	return Time{Time: tm, Raw: tm.UTC().Format(wireLayout), Valid: true}
}

// decimalText reports whether s is written with decimal digits, signs, a
// point and an exponent only: strconv also reads hexadecimal floats
// ("0x1p4"), "Inf" and "NaN", which no vendor means by a numeric string.
func decimalText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', c == '+', c == '-', c == '.', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// typeError is a lenient type's decode error: a *json.UnmarshalTypeError,
// to which encoding/json adds the field it was decoding, so the 400 a
// receiver answers (and logs) names it.
func typeError(b []byte, why string, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: fmt.Sprintf("%.40s (%s)", b, why), Type: t}
}

// numberText returns the text of a number sent as a JSON number or a
// numeric string; present is false for null and "".
func numberText(b []byte) (s string, present bool, err error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return "", false, nil
	}
	if s, err = jsonText(b); err != nil {
		return "", false, err
	}
	s = strings.TrimSpace(s)
	return s, s != "", nil
}

// jsonText returns a JSON value's text: a string's contents (unquoted
// without a second decode when it has no escapes) or a number's digits.
// encoding/json has already checked that b is valid JSON.
func jsonText(b []byte) (string, error) {
	if len(b) == 0 || b[0] != '"' {
		return string(b), nil
	}
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// Float is a number a vendor sends as a JSON number or a numeric string;
// null and "" decode to zero with Valid false. Anything else is a
// *json.UnmarshalTypeError naming the value and, inside a struct, the
// field.
type Float struct {
	Value float64
	// Valid is false when the field was null, empty or absent.
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Float) UnmarshalJSON(b []byte) error {
	*n = Float{}
	s, present, err := numberText(b)
	if err != nil || !present {
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !decimalText(s) || math.IsNaN(v) || math.IsInf(v, 0) { // "NaN", "Inf", "0x1p4": not decimal
		return typeError(b, "not a number or a numeric string", reflect.TypeFor[Float]())
	}
	*n = Float{Value: v, Valid: true}
	return nil
}

// MarshalJSON writes a number, or null when not Valid.
func (n Float) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.Value, 'g', -1, 64), nil
}
