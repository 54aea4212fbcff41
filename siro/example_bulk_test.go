package siro_test

import (
	"context"
	"fmt"
	"log"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// Stream an export of any size (a CSV reader, a database cursor) with a
// checkpoint; each record's outcome comes back tagged with its index.
func ExampleClient_StreamSyncEngagements() {
	fake := sirotest.New()
	defer fake.Close()
	c, _ := fake.Client()
	rows := func(yield func(siro.SyncEngagement, error) bool) {
		for i := range 250 {
			id := fmt.Sprintf("appt-%d", i)
			if i == 7 {
				id = "" // a bad row: reported, not sent
			}
			if !yield(siro.SyncEngagement{ExternalID: id}, nil) {
				return
			}
		}
	}
	cp := &siro.MemoryCheckpoint{} // sirosql.NewCheckpoint survives a restart
	sum, err := c.StreamSyncEngagements(context.Background(), rows, siro.BulkOptions{Checkpoint: cp},
		func(it siro.BulkItem[siro.Engagement]) {
			if it.Err != nil {
				fmt.Println(it.Index, it.Err)
			}
		})
	if err != nil {
		log.Fatal(err)
	}
	saved, _ := cp.Load(context.Background())
	fmt.Println(sum.Synced, sum.Failed, sum.Requests, saved)
	// Output:
	// 7 siro: Sync.Engagements: invalid request: externalId is required
	// 249 1 3 250
}

// Share one rate budget between clients of the same org token (replicas
// share it through sirosql.NewLimiter instead).
func ExampleNewLimiter() {
	lim, err := siro.NewLimiter(siro.LimiterConfig{PerMinute: 900, Burst: 50})
	if err != nil {
		log.Fatal(err)
	}
	a, _ := siro.NewClient(siro.WithOrgToken("org-token"), siro.WithLimiter(lim))
	b, _ := siro.NewClient(siro.WithOrgToken("org-token"), siro.WithLimiter(lim))
	iv, _ := siro.LimiterConfig{PerMinute: 900, Burst: 50}.Interval()
	fmt.Println(a != nil && b != nil, iv)
	// Output: true 70.505288ms
}
