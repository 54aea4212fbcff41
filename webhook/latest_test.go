package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLatest(t *testing.T) {
	l := NewLatest[string]()
	t0 := time.Unix(100, 0)
	assert.True(t, l.Update("call-1", t0.Add(2*time.Second), "ended"))
	assert.False(t, l.Update("call-1", t0, "created"), "an older event arriving late is dropped")
	assert.False(t, l.Update("call-1", t0.Add(2*time.Second), "dup"), "equal time is not newer")
	v, at, ok := l.Get("call-1")
	assert.True(t, ok)
	assert.Equal(t, "ended", v)
	assert.Equal(t, t0.Add(2*time.Second), at)
	assert.Equal(t, 1, l.Len())
	l.Delete("call-1")
	_, _, ok = l.Get("call-1")
	assert.False(t, ok)
}
