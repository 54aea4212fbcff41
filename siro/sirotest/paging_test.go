package sirotest_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTranscriptPages: utterances page by a 1-based page number (cursor)
// and pageSize; the client follows Transcript.NextPage to the end, where
// Siro answers cursor null. Without paging the whole transcript comes in
// one page (pageSize 100000).
func TestTranscriptPages(t *testing.T) {
	ctx := context.Background()
	fake, c := withEngagement(t, siro.ScopeRead)
	var us []siro.Utterance
	for i := range 5 {
		us = append(us, siro.Utterance{Utterance: fmt.Sprintf("u%d", i), StartTimeInMillis: float64(i), EndTimeInMillis: float64(i + 1), SpeakerTag: "A"})
	}
	rec, err := fake.Record("appt-1", sirotest.Conversation{Utterances: us, Speakers: map[string]string{"A": "Rep"}, Processed: true})
	require.NoError(t, err)

	whole, err := c.GetUtterances(ctx, rec.RecordingID, nil)
	require.NoError(t, err)
	assert.Len(t, whole.Utterances, 5)
	assert.Zero(t, whole.NextPage, "one page: cursor null")

	var got []string
	var pages []int
	p := &siro.UtterancesParams{Page: 1, PageSize: 2}
	for {
		tr, err := c.GetUtterances(ctx, rec.RecordingID, p)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(tr.Utterances), 2)
		assert.Equal(t, "Rep", tr.SpeakerMap["A"], "every page carries the speaker map")
		for _, u := range tr.Utterances {
			got = append(got, u.Utterance)
		}
		pages = append(pages, p.Page)
		if tr.NextPage == 0 {
			break
		}
		require.Equal(t, p.Page+1, tr.NextPage)
		p.Page = tr.NextPage
	}
	assert.Equal(t, []string{"u0", "u1", "u2", "u3", "u4"}, got)
	assert.Equal(t, []int{1, 2, 3}, pages)

	past, err := c.GetUtterances(ctx, rec.RecordingID, &siro.UtterancesParams{Page: 9, PageSize: 2})
	require.NoError(t, err)
	assert.Empty(t, past.Utterances)
	assert.Zero(t, past.NextPage)
	huge, err := c.GetUtterances(ctx, rec.RecordingID, &siro.UtterancesParams{Page: 1 << 62, PageSize: 1 << 62})
	require.NoError(t, err, "no overflow")
	assert.Empty(t, huge.Utterances)

	for _, q := range []url.Values{{"cursor": {"0"}}, {"cursor": {"first"}}, {"pageSize": {"-1"}}} {
		err := c.Do(ctx, siro.UserAPI, "GET", "/v1/core/recordings/{id}/utterances", []string{rec.RecordingID}, q, nil, nil)
		assert.ErrorIs(t, err, siro.ErrBadRequest, "%v", q)
	}
}

// TestListPageSizes: mobile events and CRM users honour pageSize and page
// on with the cursor; mobile events take 1 to 1000 (default 100), and a
// page size out of range is answered 400.
func TestListPageSizes(t *testing.T) {
	ctx := context.Background()
	fake, v := newFake(t)
	c, err := fake.Client(siro.WithRetry(siro.RetryPolicy{}))
	require.NoError(t, err)
	for i := range 12 {
		fake.AddMobileEvent(siro.MobileEvent{EventCode: siro.MobileAppStateChange, UserID: "u1", RecordingID: "r1"})
		fake.AddCRMUser(map[string]any{"id": fmt.Sprintf("cu%02d", i), "externalId": fmt.Sprintf("x%d", i)})
	}
	for i := range 101 {
		fake.AddMobileEvent(siro.MobileEvent{ID: fmt.Sprintf("extra%03d", i), EventCode: siro.MobileNetworkStatusChange})
	}

	p, err := c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{PageSize: 5, UserID: "u1"})
	require.NoError(t, err)
	assert.Len(t, p.Data, 5)
	n := 0
	for _, err := range c.AllMobileEvents(ctx, &siro.ListMobileEventsParams{PageSize: 5, UserID: "u1"}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 12, n)
	p, err = c.ListMobileEvents(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, p.Data, 100, "Siro's default page size")
	p, err = c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{PageSize: 1000})
	require.NoError(t, err)
	assert.Len(t, p.Data, 113)

	u, err := c.ListCRMUsers(ctx, &siro.ListCRMUsersParams{PageSize: 5})
	require.NoError(t, err)
	assert.Len(t, u.Data, 5)
	n = 0
	for _, err := range c.AllCRMUsers(ctx, &siro.ListCRMUsersParams{PageSize: 5}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 12, n)

	// Out of the documented range (the client refuses these itself).
	v.Expect(`parameter "pageSize" in query has an error: at /: number must be at most 1000`)
	v.Expect(`parameter "pageSize" in query has an error: at /: number must be at least 1`)
	for _, q := range []url.Values{{"pageSize": {"1001"}}, {"pageSize": {"0"}}} {
		err := c.Do(ctx, siro.OrgAPI, "GET", "/v1/core/mobile-events", nil, q, nil, nil)
		assert.ErrorIs(t, err, siro.ErrBadRequest, "%v", q)
	}
	err = c.Do(ctx, siro.OrgAPI, "GET", "/v1/integrations/users", nil, url.Values{"pageSize": {"none"}}, nil, nil)
	assert.ErrorIs(t, err, siro.ErrBadRequest)
}

// TestRecordingsCursorSurvivesUpdates: the recordings cursor names the
// last recording of the page, so a recording updated between two pages
// (as a poller sees when Siro links one) is listed again at the end and
// no other recording is skipped; an offset would skip one. A cursor the
// fake did not make is answered 400.
func TestRecordingsCursorSurvivesUpdates(t *testing.T) {
	ctx := context.Background()
	fake, _, clk, c := clockedFake(t)
	_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit"})
	require.NoError(t, err)
	var ids []string
	for range 5 {
		clk.Advance(time.Second)
		rec, err := fake.Record("appt-1", sirotest.Conversation{})
		require.NoError(t, err)
		ids = append(ids, rec.RecordingID)
	}

	first, err := c.ListRecordings(ctx, &siro.ListRecordingsParams{PageSize: 2})
	require.NoError(t, err)
	var seen []string
	for _, r := range first.Data {
		seen = append(seen, r.ID)
	}
	require.Equal(t, ids[:2], seen)
	require.NotEmpty(t, first.Cursor)

	clk.Advance(time.Second)
	require.NoError(t, fake.MarkLinked(ids[0])) // updatedAt moves: now the newest

	for r, err := range c.AllRecordings(ctx, &siro.ListRecordingsParams{PageSize: 2, Cursor: first.Cursor}) {
		require.NoError(t, err)
		seen = append(seen, r.ID)
	}
	assert.Equal(t, []string{ids[0], ids[1], ids[2], ids[3], ids[4], ids[0]}, seen,
		"every recording once in order, and the updated one again at the end")

	_, err = c.ListRecordings(ctx, &siro.ListRecordingsParams{Cursor: "2"})
	var se *siro.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 400, se.StatusCode)
}
