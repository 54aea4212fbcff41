package endpointopt

import (
	"errors"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

type settings struct {
	Settings
	extra bool
}

type option func(*settings) error

func TestApply(t *testing.T) {
	s := settings{Settings: Settings{Timeout: time.Second}}
	opts := []option{Timeout[*settings]("pkg", "WithTimeout", 2*time.Second), func(s *settings) error { s.extra = true; return nil }}
	cfg, err := Apply("pkg", "New", &s, opts)
	if err != nil || cfg == nil {
		t.Fatalf("Apply: %v", err)
	}
	if s.Timeout != 2*time.Second || !s.extra {
		t.Fatalf("settings not applied: %+v", s)
	}
}

func TestApplyErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		opt  option
		want string
	}{
		"nil option":   {nil, "pkg: New: option 0 is nil"},
		"zero timeout": {Timeout[*settings]("pkg", "WithTimeout", 0), "pkg: WithTimeout: 0s must be positive"},
		"nil source":   {SecretSource[*settings]("pkg", "WithSource", nil, nil), "pkg: WithSource: source and tenant func must not be nil"},
	} {
		t.Run(name, func(t *testing.T) {
			var s settings
			_, err := Apply("pkg", "New", &s, []option{tc.opt})
			if err == nil || err.Error() != tc.want || !errors.Is(err, webhook.ErrInvalidOption) {
				t.Fatalf("err = %v, want %q matching webhook.ErrInvalidOption", err, tc.want)
			}
		})
	}
}
