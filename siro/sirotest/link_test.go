package sirotest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLinkRecordingAsDocumented: PUT .../link by externalId (with the
// integration connection) or by Siro's id answers the linked object's
// Siro id and name, and the recording's crm block shows the link; a CRM
// object Siro does not hold is an error inside a 200.
func TestLinkRecordingAsDocumented(t *testing.T) {
	ctx := context.Background()
	fake, c := withEngagement(t, siro.ScopeWrite)
	e2, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-2", Subject: "Second visit"})
	require.NoError(t, err)
	opp, err := c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "opp-9", Name: "Deal"})
	require.NoError(t, err)
	rec, err := fake.Record("appt-1", sirotest.Conversation{})
	require.NoError(t, err)

	got, err := c.LinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataOpportunity, ExternalID: "opp-9",
		IntegrationConnectionID: fake.IntegrationConnectionID, Trigger: siro.TriggerExternalAPILink})
	require.NoError(t, err)
	assert.Equal(t, opp.ID, got.ID, "data.id is Siro's id of the linked object")
	assert.Equal(t, "opp-9", got.ExternalID)
	assert.Equal(t, siro.DataOpportunity, got.DataType)
	assert.Equal(t, "Deal", got.Name)
	assert.False(t, got.LastActivityAt.IsZero())

	r, err := c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	require.NotNil(t, r.CRM)
	require.NotNil(t, r.CRM.Opportunity)
	assert.Equal(t, siro.CRMRef{ID: opp.ID, ExternalID: "opp-9"}, *r.CRM.Opportunity)
	assert.Equal(t, fake.IntegrationConnectionID, r.CRM.IntegrationConnectionID)
	body, err := fake.Payload(rec.RecordingID, siro.EventRecordingLinked)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"recordingLinked":true`, "a link through the API links the recording")

	// By Siro's id, an engagement: the engagement's recordingId follows.
	got, err = c.LinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataEngagement, ID: e2.ID})
	require.NoError(t, err)
	assert.Equal(t, siro.LinkedObject{ID: e2.ID, ExternalID: "appt-2", DataType: siro.DataEngagement, Name: "Second visit",
		LastActivityAt: got.LastActivityAt}, *got)
	linked, ok := fake.Engagement("appt-2")
	require.True(t, ok)
	assert.Equal(t, rec.RecordingID, linked.RecordingID)
	r, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.Equal(t, "appt-2", r.CRM.Engagement.ExternalID)
	assert.Equal(t, "opp-9", r.CRM.Opportunity.ExternalID, "linking an engagement keeps the opportunity link")

	// Never synced, another connection's id, an unknown Siro id, a lead
	// (the fake holds none): an error inside a 200, the recording unchanged.
	for _, target := range []siro.LinkTarget{
		{DataType: siro.DataOpportunity, ExternalID: "never-synced", IntegrationConnectionID: fake.IntegrationConnectionID},
		{DataType: siro.DataOpportunity, ExternalID: "opp-9", IntegrationConnectionID: "ic_other"},
		{DataType: siro.DataAccount, ID: "acc_missing"},
		{DataType: siro.DataLead, ID: "lead-1"},
	} {
		_, err = c.LinkRecording(ctx, rec.RecordingID, &target)
		var se *siro.Error
		require.ErrorAs(t, err, &se, "%+v", target)
		assert.Equal(t, 200, se.StatusCode)
		assert.Equal(t, "CRM object not found", se.Message)
	}
	after, err := c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.Equal(t, r.CRM, after.CRM)

	// Unlinking removes only the named object's link: the engagement goes
	// (and its recordingId), the opportunity stays and the recording is
	// still linked.
	require.NoError(t, c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataEngagement, ID: e2.ID}))
	after, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	require.NotNil(t, after.CRM)
	assert.Nil(t, after.CRM.Engagement)
	assert.Equal(t, "opp-9", after.CRM.Opportunity.ExternalID)
	linked, _ = fake.Engagement("appt-2")
	assert.Empty(t, linked.RecordingID)
	body, err = fake.Payload(rec.RecordingID, siro.EventRecordingLinked)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"recordingLinked":true`)

	// Unlinking what is not linked removes nothing: Siro's data false,
	// which the client reports as ErrNotDeleted.
	err = c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataEngagement, ID: e2.ID})
	require.ErrorIs(t, err, siro.ErrNotDeleted)
	err = c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataAccount, ID: "acc_missing"})
	var se *siro.Error
	require.ErrorAs(t, err, &se, "an object the fake does not hold is an error inside a 200")
	assert.Equal(t, "CRM object not found", se.Message)

	// The last link gone, the recording is unlinked.
	require.NoError(t, c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataOpportunity, ExternalID: "opp-9",
		IntegrationConnectionID: fake.IntegrationConnectionID}))
	after, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.Nil(t, after.CRM)
	body, err = fake.Payload(rec.RecordingID, siro.EventRecordingLinked)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"recordingLinked":false`)
	assert.NotContains(t, string(body), `"crm"`)
}

// TestUnprocessedServesNoResults: until Siro has processed a recording it
// serves no transcript ("empty utterances means not processed yet"), no
// summary, and no finished entity extraction (in-progress extractions are
// omitted where Siro says so, and carry no fields where they are listed);
// MarkProcessed makes all of it appear.
func TestUnprocessedServesNoResults(t *testing.T) {
	ctx := context.Background()
	fake, c := withEngagement(t, siro.ScopeRead)
	rec, err := fake.Record("appt-1", sirotest.Conversation{
		Summary:     []siro.SummarySection{{ID: "s1", Name: "Overview", Content: "Roof quote"}},
		Extractions: []siro.ExtractedField{{Name: "budget", Value: json.RawMessage(`12000`)}},
		Utterances:  []siro.Utterance{{Utterance: "Hello", SpeakerTag: "A"}},
		Speakers:    map[string]string{"A": "Rep"},
	})
	require.NoError(t, err)

	check := func(processed bool) {
		t.Helper()
		tr, err := c.GetUtterances(ctx, rec.RecordingID, nil)
		require.NoError(t, err)
		sums, err := c.GetRecordingSummaries(ctx, rec.RecordingID)
		require.NoError(t, err)
		ex, err := c.GetEntityExtractions(ctx, rec.RecordingID)
		require.NoError(t, err)
		require.Len(t, ex, 1)
		r, err := c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowSummary: true, ShowEntityExtractions: true})
		require.NoError(t, err)
		d, err := c.GetRecordingDetails(ctx, rec.RecordingID, &siro.RecordingDetailsShow{ShowSummary: true, ShowEntityExtractions: true})
		require.NoError(t, err)
		if !processed {
			assert.Empty(t, tr.Utterances)
			assert.Empty(t, tr.SpeakerMap)
			assert.Empty(t, sums)
			assert.Equal(t, siro.ExtractionInProgress, ex[0].Status)
			assert.Empty(t, ex[0].Extraction)
			assert.Empty(t, r.Summary)
			assert.Empty(t, r.EntityExtractions)
			assert.Empty(t, d.Summary)
			assert.Empty(t, d.EntityExtractions)
			return
		}
		assert.Len(t, tr.Utterances, 1)
		assert.Equal(t, "Rep", tr.Speaker(tr.Utterances[0]))
		assert.Len(t, sums, 1)
		assert.Equal(t, siro.ExtractionSuccess, ex[0].Status)
		assert.Len(t, ex[0].Extraction, 1)
		assert.Len(t, r.Summary, 1)
		assert.Len(t, r.EntityExtractions, 1)
		assert.Contains(t, d.Summary, "Roof quote")
		assert.Len(t, d.EntityExtractions, 1)
	}
	check(false)
	require.NoError(t, fake.MarkProcessed(rec.RecordingID))
	check(true)
}
