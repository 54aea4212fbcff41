package sirotest_test

import (
	"context"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingIDs lists the ids of a page of recordings, sorted.
func recordingIDs(rs []siro.Recording) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}

// TestRecordingFiltersAsDocumented: GET /v1/core/recordings honours every
// documented filter, with Siro's exclusive (gt, lt) and inclusive (gte,
// lte) bounds, and answers 400 to a value it cannot read.
func TestRecordingFiltersAsDocumented(t *testing.T) {
	ctx := context.Background()
	fake, v, clk, c := clockedFake(t)
	t0 := clk.Now()
	for _, ext := range []string{"appt-1", "appt-2"} {
		_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: ext})
		require.NoError(t, err)
	}
	first, err := fake.Record("appt-1", sirotest.Conversation{Title: "first", Processed: true})
	require.NoError(t, err)
	clk.Advance(time.Hour)
	t1 := clk.Now()
	second, err := fake.Record("appt-2", sirotest.Conversation{Title: "second"})
	require.NoError(t, err)
	a, b := first.RecordingID, second.RecordingID
	both := []string{a, b}
	sort.Strings(both)

	yes, no := true, false
	cases := []struct {
		name string
		p    siro.ListRecordingsParams
		want []string
	}{
		{"no filter", siro.ListRecordingsParams{}, both},
		{"createdAt:gt excludes the bound", siro.ListRecordingsParams{CreatedAtGT: siro.At(t0)}, []string{b}},
		{"createdAt:lt excludes the bound", siro.ListRecordingsParams{CreatedAtLT: siro.At(t1)}, []string{a}},
		{"createdAt:gt after both", siro.ListRecordingsParams{CreatedAtGT: siro.At(t1.Add(time.Millisecond))}, []string{}},
		{"updatedAt:gte includes the bound", siro.ListRecordingsParams{UpdatedAtGTE: siro.At(t1)}, []string{b}},
		{"updatedAt:gt excludes the bound", siro.ListRecordingsParams{UpdatedAtGT: siro.At(t1)}, []string{}},
		{"updatedAt:lte includes the bound", siro.ListRecordingsParams{UpdatedAtLTE: siro.At(t0)}, []string{a}},
		{"updatedAt:lt excludes the bound", siro.ListRecordingsParams{UpdatedAtLT: siro.At(t0)}, []string{}},
		{"updatedAt window", siro.ListRecordingsParams{UpdatedAtGT: siro.At(t0.Add(-time.Minute)), UpdatedAtLT: siro.At(t1)}, []string{a}},
		{"isProcessingDone=true", siro.ListRecordingsParams{IsProcessingDone: &yes}, []string{a}},
		{"isProcessingDone=false", siro.ListRecordingsParams{IsProcessingDone: &no}, []string{b}},
		{"isSummaryDone=false", siro.ListRecordingsParams{IsSummaryDone: &no}, []string{b}},
		{"isEntityExtractionDone=true", siro.ListRecordingsParams{IsEntityExtractionDone: &yes}, []string{a}},
		{"processed and created after t0", siro.ListRecordingsParams{IsProcessingDone: &yes, CreatedAtGT: siro.At(t0)}, []string{}},
	}
	for _, tc := range cases {
		page, err := c.ListRecordings(ctx, &tc.p)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, recordingIDs(page.Data), tc.name)
	}

	// Processing a recording moves its updatedAt: updatedAt:gte polling
	// picks it up again.
	clk.Advance(time.Hour)
	require.NoError(t, fake.MarkProcessed(b))
	page, err := c.ListRecordings(ctx, &siro.ListRecordingsParams{UpdatedAtGTE: siro.At(clk.Now()), IsProcessingDone: &yes})
	require.NoError(t, err)
	assert.Equal(t, []string{b}, recordingIDs(page.Data))

	// pageSize pages (default 25); the cursor continues.
	page, err = c.ListRecordings(ctx, &siro.ListRecordingsParams{PageSize: 1})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	require.NotEmpty(t, page.Cursor)
	rest, err := c.ListRecordings(ctx, &siro.ListRecordingsParams{PageSize: 1, Cursor: page.Cursor})
	require.NoError(t, err)
	require.Len(t, rest.Data, 1)
	assert.Empty(t, rest.Cursor)

	// A value the fake cannot read is Siro's 400, not a silently ignored filter.
	v.Expect(`parameter "isSummaryDone" in query has an error: at /: value is not one of the allowed values`)
	for _, q := range []url.Values{
		{"updatedAt:gte": {"yesterday"}},
		{"createdAt:lt": {"2026-13-01T00:00:00.000Z"}},
		{"pageSize": {"many"}},
		{"isSummaryDone": {"maybe"}},
	} {
		err := c.Do(ctx, siro.OrgAPI, "GET", "/v1/core/recordings", nil, q, nil, nil)
		var se *siro.Error
		require.ErrorAs(t, err, &se, "%v", q)
		assert.Equal(t, 400, se.StatusCode, "%v", q)
		assert.ErrorIs(t, err, siro.ErrBadRequest)
	}
}

// TestOpportunitiesByRecording: recordingId lists the opportunity the
// recording is linked to, and nothing for a recording that is not linked
// or does not exist.
func TestOpportunitiesByRecording(t *testing.T) {
	ctx := context.Background()
	fake, _ := newFake(t)
	c, err := fake.Client()
	require.NoError(t, err)
	_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}})
	require.NoError(t, err)
	_, err = c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "opp-2", Name: "unrelated"})
	require.NoError(t, err)
	rec, err := fake.Record("appt-1", sirotest.Conversation{})
	require.NoError(t, err)
	ops, err := c.ListOpportunities(ctx, &siro.ListOpportunitiesParams{RecordingID: rec.RecordingID})
	require.NoError(t, err)
	assert.Empty(t, ops.Data, "not linked yet")
	require.NoError(t, fake.MarkLinked(rec.RecordingID))

	all, err := c.ListOpportunities(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, all.Data, 2)
	ops, err = c.ListOpportunities(ctx, &siro.ListOpportunitiesParams{RecordingID: rec.RecordingID})
	require.NoError(t, err)
	require.Len(t, ops.Data, 1)
	assert.Equal(t, "opp-1", ops.Data[0].ExternalID)
	ops, err = c.ListOpportunities(ctx, &siro.ListOpportunitiesParams{RecordingID: "no-such-recording"})
	require.NoError(t, err)
	assert.Empty(t, ops.Data)
}

// TestMobileEventFilters: createdAtGt and createdAtLt (exclusive),
// recordingId, userId and the event codes filter; a malformed date is 400.
func TestMobileEventFilters(t *testing.T) {
	ctx := context.Background()
	fake, _, clk, c := clockedFake(t)
	t0 := clk.Now()
	fake.AddMobileEvent(siro.MobileEvent{ID: "m1", EventCode: siro.MobileAppStateChange, UserID: "u1", RecordingID: "r1"})
	clk.Advance(time.Minute)
	t1 := clk.Now()
	fake.AddMobileEvent(siro.MobileEvent{ID: "m2", EventCode: siro.MobileDeeplinkReceived, UserID: "u2", RecordingID: "r2"})

	ids := func(p *siro.ListMobileEventsParams) []string {
		t.Helper()
		page, err := c.ListMobileEvents(ctx, p)
		require.NoError(t, err)
		out := []string{}
		for _, e := range page.Data {
			out = append(out, e.ID)
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, []string{"m1", "m2"}, ids(nil))
	assert.Equal(t, []string{"m2"}, ids(&siro.ListMobileEventsParams{CreatedAtGT: siro.At(t0)}), "createdAtGt excludes the bound")
	assert.Equal(t, []string{"m1"}, ids(&siro.ListMobileEventsParams{CreatedAtLT: siro.At(t1)}), "createdAtLt excludes the bound")
	assert.Equal(t, []string{}, ids(&siro.ListMobileEventsParams{CreatedAtGT: siro.At(t1.Add(time.Hour))}))
	assert.Equal(t, []string{"m2"}, ids(&siro.ListMobileEventsParams{RecordingID: "r2"}))
	assert.Equal(t, []string{}, ids(&siro.ListMobileEventsParams{RecordingID: "other"}))
	assert.Equal(t, []string{"m1"}, ids(&siro.ListMobileEventsParams{UserID: "u1"}))
	assert.Equal(t, []string{"m2"}, ids(&siro.ListMobileEventsParams{EventCodeIn: []siro.MobileEventCode{siro.MobileDeeplinkReceived}}))

	err := c.Do(ctx, siro.OrgAPI, "GET", "/v1/core/mobile-events", nil, url.Values{"createdAtGt": {"last week"}}, nil, nil)
	assert.ErrorIs(t, err, siro.ErrBadRequest)
}
