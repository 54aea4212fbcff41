package webhook

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInt(t *testing.T) {
	for in, want := range map[string]Int{`124`: {124, true}, `"124"`: {124, true}, `" 7 "`: {7, true}, `null`: {}, `""`: {}, `124.0`: {124, true}} {
		var n Int
		require.NoError(t, json.Unmarshal([]byte(in), &n), in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{`"abc"`, `true`, `{}`, `12.5`, `"1e400"`} {
		var n Int
		err := json.Unmarshal([]byte(in), &n)
		assert.Error(t, err, in)
	}
	b, _ := json.Marshal(Int{Value: 5, Valid: true})
	assert.Equal(t, "5", string(b))
}

func TestID(t *testing.T) {
	for in, want := range map[string]ID{`88231`: "88231", `"contact_9921"`: "contact_9921", `null`: ""} {
		var id ID
		require.NoError(t, json.Unmarshal([]byte(in), &id))
		assert.Equal(t, want, id)
	}
	var id ID
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &id))
}

func TestTime(t *testing.T) {
	var tm Time
	require.NoError(t, json.Unmarshal([]byte(`"2023-01-11T20:19:25.000Z"`), &tm))
	assert.True(t, tm.Valid)
	assert.Equal(t, time.Date(2023, 1, 11, 20, 19, 25, 0, time.UTC), tm.Time)
	require.NoError(t, json.Unmarshal([]byte(`"023-01-11T20:19:40.000Z"`), &tm))
	assert.False(t, tm.Valid)
	assert.True(t, tm.Unparsed())
	assert.Equal(t, "023-01-11T20:19:40.000Z", tm.Raw)
	b, _ := json.Marshal(tm)
	assert.Equal(t, `"023-01-11T20:19:40.000Z"`, string(b), "the raw text round-trips")
	assert.Error(t, json.Unmarshal([]byte(`12`), &tm))
}

func TestTimeWithoutZoneOrFraction(t *testing.T) {
	for in, want := range map[string]time.Time{
		`"2026-05-20 10:23:45"`:       time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC),
		`"2026-05-20 10:23:45.123"`:   time.Date(2026, 5, 20, 10, 23, 45, 123e6, time.UTC),
		`"2026-05-20T10:23:45"`:       time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC),
		`"2026-05-20T10:23:45.5Z"`:    time.Date(2026, 5, 20, 10, 23, 45, 5e8, time.UTC),
		`"2026-05-20 10:23:45+02:00"`: time.Date(2026, 5, 20, 8, 23, 45, 0, time.UTC),
		`"2026-05-20T10:23:45+00:00"`: time.Date(2026, 5, 20, 10, 23, 45, 0, time.UTC),
	} {
		var tm Time
		require.NoError(t, json.Unmarshal([]byte(in), &tm), in)
		assert.True(t, tm.Valid, in)
		assert.True(t, want.Equal(tm.Time), "%s: got %v", in, tm.Time)
	}
}

func TestFloat(t *testing.T) {
	for in, want := range map[string]Float{`4.2`: {4.2, true}, `"4.2"`: {4.2, true}, `null`: {}, `""`: {}, `3`: {3, true}} {
		var n Float
		require.NoError(t, json.Unmarshal([]byte(in), &n), in)
		assert.Equal(t, want, n, in)
	}
	var n Float
	assert.Error(t, json.Unmarshal([]byte(`"fast"`), &n))
}

// TestTimeOneShape: the one Time round-trips a vendor's text, writes a
// built or changed instant in UTC with milliseconds, the zero Time as
// null, and a query parameter in the same form.
func TestTimeOneShape(t *testing.T) {
	var tm Time
	require.NoError(t, json.Unmarshal([]byte(`"2026-05-20 10:23:45"`), &tm))
	b, _ := json.Marshal(tm)
	assert.Equal(t, `"2026-05-20 10:23:45"`, string(b), "received text round-trips")
	tm.Time = tm.Add(time.Second)
	b, _ = json.Marshal(tm)
	assert.Equal(t, `"2026-05-20T10:23:46.000Z"`, string(b), "a changed instant is written, not the stale text")
	b, _ = json.Marshal(Time{Time: time.Date(2026, 5, 20, 12, 0, 0, 5e6, time.FixedZone("x", 7200))})
	assert.Equal(t, `"2026-05-20T10:00:00.005Z"`, string(b))
	b, _ = json.Marshal(Time{})
	assert.Equal(t, `null`, string(b))
	v := url.Values{}
	require.NoError(t, NewTime(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)).EncodeValues("from", &v))
	require.NoError(t, Time{}.EncodeValues("to", &v))
	assert.Equal(t, "from=2026-05-20T10%3A00%3A00.000Z", v.Encode())
	assert.True(t, tm.Before(tm.Add(time.Second)), "time.Time's methods are promoted")
}

// TestNewTimeZeroIsNull: NewTime of the zero time.Time is the zero Time,
// written as null, and reads back as the zero Time; it used to write
// "0001-01-01T00:00:00.000Z", which decodes as an unparsed value.
func TestNewTimeZeroIsNull(t *testing.T) {
	z := NewTime(time.Time{})
	assert.True(t, z.IsZero())
	assert.False(t, z.Unparsed())
	b, err := json.Marshal(z)
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))
	var back Time
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, Time{}, back)

	// Any other instant round-trips.
	when := time.Date(2026, 5, 20, 10, 23, 45, 120e6, time.UTC)
	b, err = json.Marshal(NewTime(when))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, back.Valid)
	assert.True(t, back.Equal(when))
}

// TestLenientErrorsNameTheField: a value Int, Float or ID cannot hold is
// a *json.UnmarshalTypeError, so encoding/json names the field it was
// decoding (the 400 a receiver answers and logs says which one), and the
// message still shows the value.
func TestLenientErrorsNameTheField(t *testing.T) {
	type call struct {
		Details struct {
			CallID   ID    `json:"call_id"`
			Duration Int   `json:"duration_total"`
			Score    Float `json:"score"`
		} `json:"call_details"`
	}
	for body, field := range map[string]string{
		`{"call_details":{"duration_total":"abc"}}`: "call_details.duration_total",
		`{"call_details":{"call_id":true}}`:         "call_details.call_id",
		`{"call_details":{"score":"high"}}`:         "call_details.score",
	} {
		var c call
		err := json.Unmarshal([]byte(body), &c)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, body)
		assert.Equal(t, field, te.Field, body)
		assert.Contains(t, err.Error(), field, body)
	}
	var c call
	require.NoError(t, json.Unmarshal([]byte(`{"call_details":{"call_id":"call-88231"}}`), &c))
	assert.Equal(t, ID("call-88231"), c.Details.CallID, "any string is an ID")
}

// TestReviewFloatRefusesNaNAndInf: strconv.ParseFloat takes "NaN", "Inf"
// and "infinity", which are no JSON number: a Float holding one writes
// them back as is, so re-encoding the event (forwarding it, storing it)
// fails. They are a value Float cannot hold, a *json.UnmarshalTypeError
// naming the field like any other.
func TestReviewFloatRefusesNaNAndInf(t *testing.T) {
	for _, v := range []string{`"NaN"`, `"Inf"`, `"-infinity"`, `"+Inf"`} {
		var c struct {
			Score Float `json:"score"`
		}
		err := json.Unmarshal([]byte(`{"score":`+v+`}`), &c)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, v)
		assert.Equal(t, "score", te.Field, v)
	}
	b, err := json.Marshal(struct{ F Float }{Float{Value: 1.5, Valid: true}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"F":1.5}`, string(b))
}

// TestNumbersAreDecimal: Int and Float read decimal numbers only; the
// hexadecimal floats, "Inf" and "NaN" strconv also reads are refused.
func TestNumbersAreDecimal(t *testing.T) {
	for _, in := range []string{`"0x1p4"`, `"0X10"`, `"Inf"`, `"-infinity"`, `"NaN"`, `"1_000"`} {
		var n Int
		assert.Error(t, json.Unmarshal([]byte(in), &n), "Int %s", in)
		var f Float
		assert.Error(t, json.Unmarshal([]byte(in), &f), "Float %s", in)
	}
	for in, want := range map[string]float64{`"1e3"`: 1000, `"-2.5"`: -2.5, `"+7"`: 7, `12`: 12} {
		var f Float
		require.NoError(t, json.Unmarshal([]byte(in), &f), in)
		assert.Equal(t, want, f.Value, in)
	}
	var n Int
	require.NoError(t, json.Unmarshal([]byte(`"1e3"`), &n))
	assert.Equal(t, int64(1000), n.Value)
}

// TestIntRange: an integer outside int64, written as digits or as a
// float, is a decode error, never clamped to the nearest int64.
func TestIntRange(t *testing.T) {
	for _, in := range []string{`"-9223372036854775809"`, `9223372036854775808`, `"9.3e18"`, `-9.3e18`, `1e19`} {
		var n Int
		assert.Error(t, json.Unmarshal([]byte(in), &n), in)
	}
	for in, want := range map[string]int64{`"-9223372036854775808"`: -1 << 63, `9223372036854775807`: 1<<63 - 1, `"-9.223372036854775808e18"`: -1 << 63, `"1e18"`: 1e18} {
		var n Int
		require.NoError(t, json.Unmarshal([]byte(in), &n), in)
		assert.Equal(t, want, n.Value, in)
	}
}
