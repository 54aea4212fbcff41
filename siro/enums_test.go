package siro_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnumInputsCheckedBeforeRequest: a value outside an enum Siro's
// documents declare fails before any request, naming the field.
func TestEnumInputsCheckedBeforeRequest(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	c, err := fake.Client(siro.WithOAuthApp("cid", "secret", "u", siro.ScopeWrite))
	require.NoError(t, err)
	before := fake.RequestCount()
	cases := []struct {
		name, field string
		call        func() error
	}{
		{"activity type", "engagementType.activityType", func() error {
			_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "a", EngagementType: &siro.EngagementType{Name: "Visit", ActivityType: "VISIT"}})
			return err
		}},
		{"direction", "direction", func() error {
			_, err := c.SyncEngagements(ctx, []siro.SyncEngagement{{ExternalID: "a", Direction: "SIDEWAYS"}})
			return err
		}},
		{"nested disposition", "opportunity.disposition", func() error {
			_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "a", Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "o", Disposition: "MAYBE"}})
			return err
		}},
		{"disposition", "disposition", func() error {
			_, err := c.SyncOpportunity(ctx, &siro.SyncOpportunity{ExternalID: "o", Disposition: "open"})
			return err
		}},
		{"link trigger", "trigger", func() error {
			_, err := c.LinkRecording(ctx, "r", &siro.LinkTarget{ID: "x", DataType: siro.DataLead, Trigger: "BY_HAND"})
			return err
		}},
		{"data type", "dataType", func() error {
			err := c.UnlinkRecording(ctx, "r", &siro.LinkTarget{ID: "x", DataType: "DEAL"})
			return err
		}},
		{"creatable platform", "integrationPlatform", func() error {
			_, err := c.CreateConnection(ctx, &siro.CreateConnectionParams{Name: "n", IntegrationPlatform: siro.PlatformSalesforce, ExternalAccountID: "x"})
			return err
		}},
		{"listable platform", "integrationPlatform", func() error {
			_, err := c.ListConnections(ctx, &siro.ListConnectionsParams{IntegrationPlatform: "HUBSPOT"})
			return err
		}},
		{"mobile event code", "eventCodeIn[1]", func() error {
			_, err := c.ListMobileEvents(ctx, &siro.ListMobileEventsParams{EventCodeIn: []siro.MobileEventCode{siro.MobileAppStateChange, "appCrashed"}})
			return err
		}},
	}
	for _, tc := range cases {
		err := tc.call()
		require.ErrorIs(t, err, siro.ErrInvalidRequest, tc.name)
		assert.Contains(t, err.Error(), tc.field, tc.name)
	}
	assert.Equal(t, before, fake.RequestCount(), "nothing was sent")

	// The documented members pass: the list filter takes all 15 platforms
	// and the new activity types sync.
	_, err = c.ListConnections(ctx, &siro.ListConnectionsParams{IntegrationPlatform: siro.PlatformKnock})
	require.NoError(t, err)
	_, err = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "bot", EngagementType: &siro.EngagementType{Name: "Bot", ActivityType: siro.ActivitySiroBotRecording}})
	require.NoError(t, err)
}

// TestOpportunityContactIsPrimary: isPrimary exists only on an
// opportunity's contacts, as Siro's schema has it.
func TestOpportunityContactIsPrimary(t *testing.T) {
	yes := true
	b, err := json.Marshal(siro.SyncOpportunity{ExternalID: "o", OpportunityContacts: []siro.SyncOpportunityContact{
		{SyncContact: siro.SyncContact{ExternalID: "c1", Name: "Ann"}, IsPrimary: &yes}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"externalId":"o","opportunityContacts":[{"externalId":"c1","name":"Ann","isPrimary":true}]}`, string(b))
	b, err = json.Marshal(siro.SyncEngagement{ExternalID: "e", Contact: &siro.SyncContact{ExternalID: "c1"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"externalId":"e","contact":{"externalId":"c1"}}`, string(b))
}
