package riverinbox

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttack2StoppedInboxStillStores: shutdown in the wrong order (the
// inbox stopped while its receiver still answers). A delivery the
// receiver acknowledges after Stop is stored, and another replica's
// workers process it once.
func TestAttack2StoppedInboxStillStores(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a := db.newInbox(t)
		ha := newSivoHandler(t, a, recordingCallbacks(db, true, nil))
		require.NoError(t, a.Start(ctx))
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(stopCtx))
		s, _ := sivotest.NewSender(testSecret)
		body := sivoEvent(t, "evt_after_stop")
		require.Equal(t, 200, s.Serve(ha, body), "acknowledged after Stop")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind), "so it is stored")

		b := db.newInbox(t)
		newSivoHandler(t, b, recordingCallbacks(db, true, nil))
		startInbox(t, b)
		waitFor(t, 20*time.Second, func() bool {
			n, err := db.countErr("SELECT count(*) FROM %sriver_job WHERE state = 'completed'")
			return err == nil && n == 1
		}, "another replica processes it")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sapplied WHERE id = 'evt_after_stop'"))
		assert.Equal(t, 200, s.Serve(ha, body), "a redelivery is a duplicate")
		assert.Equal(t, 1, db.count(t, "SELECT count(*) FROM %sriver_job WHERE kind = $1", Kind))
	})
}
