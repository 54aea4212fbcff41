package main

import (
	"context"
	"fmt"
	"net"

	"github.com/callcrm/callcrm-go/engrami/engramitest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

const fakeHelp = `Runs one of the SDK's in-process fakes as a standalone server, so tests in other
languages or a front end can use it (what stripe-mock is for Stripe):

  siro     sirotest: Siro's org API and user API (two hosts), with Siro's envelopes,
           error shapes, auth per host and OAuth token minting
  engrami  engramitest: Engrami's API (incoming webhooks, tools, OAuth providers,
           actions, secrets)

It prints the base URLs and credentials as KEY=value lines, then "ready", and
serves until SIGINT or SIGTERM. State is in memory and starts empty.`

func cmdFake(ctx context.Context, args []string, e *env) error {
	fs := newFlags(e, "fake siro|engrami [-addr 127.0.0.1:PORT]", fakeHelp)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (siro: the org API host); port 0 picks a free one")
	userAddr := fs.String("user-addr", "", "siro: the user API host's listen address (default: -addr's host, a free port)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("fake wants siro or engrami")
	}
	listen := func(flagName, a string) (net.Listener, error) {
		l, err := net.Listen("tcp", a)
		if err != nil {
			return nil, &ioError{fmt.Errorf("%s %s: %w", flagName, a, err)}
		}
		return l, nil
	}
	switch pos[0] {
	case "siro":
		orgLn, err := listen("-addr", *addr)
		if err != nil {
			return err
		}
		ua := *userAddr
		if ua == "" {
			host, _, _ := net.SplitHostPort(*addr)
			ua = net.JoinHostPort(host, "0")
		}
		userLn, err := listen("-user-addr", ua)
		if err != nil {
			orgLn.Close()
			return err
		}
		fake := sirotest.New(sirotest.WithListeners(orgLn, userLn))
		defer fake.Close()
		fmt.Fprintf(e.stdout, "SIRO_ORG_BASE_URL=%s\nSIRO_USER_BASE_URL=%s\nSIRO_ORG_TOKEN=%s\nSIRO_WEBHOOK_SECRET=%s\nSIRO_ORGANIZATION_ID=%s\nSIRO_INTEGRATION_CONNECTION_ID=%s\n",
			fake.OrgURL(), fake.UserURL(), fake.OrgToken, fake.WebhookSecret, fake.OrganizationID, fake.IntegrationConnectionID)
		fmt.Fprintf(e.stdout, "# org API: Authorization: Bearer $SIRO_ORG_TOKEN; user API: x-siro-auth-token from\n# POST $SIRO_ORG_BASE_URL/v1/core/oauth/apps then .../oauth/apps/{clientId}/access-token\n")
	case "engrami":
		ln, err := listen("-addr", *addr)
		if err != nil {
			return err
		}
		fake := engramitest.New(engramitest.WithListener(ln))
		defer fake.Close()
		fmt.Fprintf(e.stdout, "ENGRAMI_BASE_URL=%s\nENGRAMI_TOKEN=%s\n", fake.BaseURL(), fake.Token)
		fmt.Fprintf(e.stdout, "# Authorization: Bearer $ENGRAMI_TOKEN\n")
	default:
		return usageErrorf("fake %q: want siro or engrami", pos[0])
	}
	fmt.Fprintln(e.stdout, "ready")
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "stopping")
	return nil
}
