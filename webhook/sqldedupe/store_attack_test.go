package sqldedupe

import (
	"context"
	"testing"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttackKeyWithNULOrInvalidUTF8: a delivery key is the vendor's id
// (riverinbox stores ids holding a NUL or invalid UTF-8 on purpose). The
// key goes into a TEXT column as is: PostgreSQL refuses both (22021), so
// Reserve fails as a store outage, the receiver answers 503 to every
// retry and the delivery is never processed (nor enqueued: the receiver
// reserves before it enqueues). Keys that PostgreSQL cannot hold need an
// encoding (or a hash) like riverinbox's.
func TestAttackKeyWithNULOrInvalidUTF8(t *testing.T) {
	sqldbtest.Each(t, "dedupe.db", func(t *testing.T, b sqldbtest.Backend) {
		ctx := context.Background()
		s := newStore(t, b.Open(t))
		for _, key := range []string{"acme/default/d:evt\x00nul", "acme/default/d:evt\xffbad"} {
			res, err := s.Reserve(ctx, key)
			require.NoError(t, err, "%q", key)
			assert.NoError(t, s.Commit(ctx, res), "%q", key)
			_, err = s.Reserve(ctx, key)
			assert.Error(t, err, "%q is a duplicate once committed", key)
		}
		// And the two keys stay apart from their neighbours.
		_, err := s.Reserve(ctx, "acme/default/d:evt\x00other")
		assert.NoError(t, err)
	})
}
