package sirotest_test

import (
	"context"
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
	fake, _ := newFake(t)
	c := userClient(t, fake, siro.ScopeWrite)
	_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit"})
	require.NoError(t, err)
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

	// Unlinking clears the crm block and the engagement's recordingId.
	require.NoError(t, c.UnlinkRecording(ctx, rec.RecordingID, &siro.LinkTarget{DataType: siro.DataEngagement, ID: e2.ID}))
	after, err = c.GetRecording(ctx, rec.RecordingID, &siro.RecordingShow{ShowCRMLinks: true})
	require.NoError(t, err)
	assert.Nil(t, after.CRM)
	linked, _ = fake.Engagement("appt-2")
	assert.Empty(t, linked.RecordingID)
}
