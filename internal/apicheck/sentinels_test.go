package apicheck

import (
	"errors"
	"testing"

	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/internal/apierr"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// TestOneSentinelPerMeaning checks that the REST clients export one value
// per meaning: errors.Is(err, siro.ErrNotFound) and
// errors.Is(err, engrami.ErrNotFound) are the same test.
func TestOneSentinelPerMeaning(t *testing.T) {
	for _, c := range []struct {
		name                string
		shared, siro, engra error
	}{
		{"ErrBadRequest", apierr.ErrBadRequest, siro.ErrBadRequest, engrami.ErrBadRequest},
		{"ErrUnauthorized", apierr.ErrUnauthorized, siro.ErrUnauthorized, engrami.ErrUnauthorized},
		{"ErrForbidden", apierr.ErrForbidden, siro.ErrForbidden, engrami.ErrForbidden},
		{"ErrNotFound", apierr.ErrNotFound, siro.ErrNotFound, engrami.ErrNotFound},
		{"ErrConflict", apierr.ErrConflict, siro.ErrConflict, engrami.ErrConflict},
		{"ErrRateLimited", apierr.ErrRateLimited, siro.ErrRateLimited, engrami.ErrRateLimited},
		{"ErrServer", apierr.ErrServer, siro.ErrServer, engrami.ErrServer},
		{"ErrInvalidOption", webhook.ErrInvalidOption, siro.ErrInvalidOption, engrami.ErrInvalidOption},
		{"ErrInvalidRequest", apierr.ErrInvalidRequest, siro.ErrInvalidRequest, engrami.ErrInvalidRequest},
		{"ErrMissingCredential", apierr.ErrMissingCredential, siro.ErrMissingCredential, engrami.ErrMissingCredential},
		{"ErrRedirectRefused", apierr.ErrRedirectRefused, siro.ErrRedirectRefused, engrami.ErrRedirectRefused},
	} {
		if c.siro != c.shared || c.engra != c.shared {
			t.Errorf("%s: siro's, engrami's and the shared value differ", c.name)
		}
	}
	if siro.ErrEmptyBody != apierr.ErrEmptyBody {
		t.Error("siro.ErrEmptyBody is not apierr.ErrEmptyBody")
	}
	// An engrami 404 matches siro's sentinel too: one test for both.
	err := error(&engrami.Error{Provider: "engrami", StatusCode: 404})
	if !errors.Is(err, siro.ErrNotFound) {
		t.Error("an engrami 404 does not match siro.ErrNotFound")
	}
}
