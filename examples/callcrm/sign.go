package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

const signHelp = `Reads a body on stdin and prints the headers VENDOR would send with it, as
curl -H lines (the signature over exactly those bytes: mind a trailing newline).
For Siro, -id sets svix-id (default: a new msg_ id) and svix-timestamp is now.

  callcrm sign sivo -secret "$SECRET" < event.json
  curl -X POST --data-binary @event.json $(callcrm sign ...)   # word splitting: prefer a script`

func cmdSign(args []string, e *env) error {
	fs := newFlags(e, "sign VENDOR -secret S [-id ID] < body", signHelp)
	secretArg := fs.String("secret", "", "the signing secret (default $CALLCRM_SECRET)")
	id := fs.String("id", "", "message id for vendors that sign one in a header (Siro's svix-id)")
	v, secret, err := vendorAndSecret(e, "sign", fs, args, secretArg)
	if err != nil {
		return err
	}
	if isTerminal(e.stdin) {
		return usageErrorf("pipe the body on stdin (callcrm sign %s -secret S < body.json)", v.name)
	}
	body, err := io.ReadAll(e.stdin)
	if err != nil {
		return &ioError{err}
	}
	mid := *id
	if mid == "" {
		mid = v.newID()
	}
	h, err := v.sign(secret, mid, body, time.Now())
	if err != nil {
		return usageErrorf("-secret: %v", err)
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, val := range h[k] {
			fmt.Fprintf(e.stdout, "-H '%s: %s'\n", k, strings.ReplaceAll(val, "'", `'\''`))
		}
	}
	return nil
}
