package webhook

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
