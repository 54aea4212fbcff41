// Command callcrm triggers, signs and verifies every vendor's webhooks and
// runs the SDK's fakes as standalone servers, so you can try your own
// server without the vendors.
//
// Install it with
//
//	go install github.com/callcrm/callcrm-go/examples/callcrm@latest
//
// Verbs (each has -h):
//
//	callcrm trigger list
//	callcrm trigger VENDOR EVENT -url URL -secret S [-set path=value ...] [-id ID] [-repeat N] [-out-of-order]
//	callcrm lookup -url URL -secret S NUMBER
//	callcrm verify VENDOR -secret S < request.txt
//	callcrm verify VENDOR -secret S -header 'K: V' ... -body FILE
//	callcrm sign VENDOR -secret S [-id ID] < body.json
//	callcrm fake siro|engrami [-addr 127.0.0.1:PORT]
//
// VENDOR is siro, symbo, callsync or sivo. trigger builds the event from
// the vendor's documented sample (embedded in the binary), overrides
// fields with -set (a dotted JSON path; the value is read as a JSON
// literal when it is one, else as a string), signs it exactly as the
// vendor signs and prints the status, the answer's body and the time
// taken. -secret may be left out when CALLCRM_SECRET is set, which keeps
// the secret out of the shell's history. No verb ever prints a secret.
//
// Exit codes, for scripts:
//
//	0  every request was answered 2xx; verify: the signature verifies
//	1  delivered but answered non-2xx (lookup: 404 too); verify: it does not verify
//	2  usage error (unknown verb, vendor or event, missing flag, bad -set)
//	3  network or I/O error (connection refused, timeout, unreadable input)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitRejected = 1
	exitUsage    = 2
	exitIO       = 3
)

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// ioError is a network or I/O failure (exit 3).
type ioError struct{ err error }

// Error is the error's text with the values of any URL query (a lookup
// ?token=, a receiver's key) redacted: net/http quotes the whole URL.
func (e *ioError) Error() string {
	msg := e.err.Error()
	var ue *url.Error
	if errors.As(e.err, &ue) {
		if u, err := url.Parse(ue.URL); err == nil && u.RawQuery != "" {
			q := u.Query()
			for k := range q {
				q[k] = []string{"REDACTED"}
			}
			u.RawQuery = q.Encode()
			msg = strings.ReplaceAll(msg, ue.URL, u.String())
		}
	}
	return msg
}
func (e *ioError) Unwrap() error { return e.err }

// rejected means the request was delivered and answered non-2xx, or a
// signature does not verify (exit 1); the details were printed already.
var errRejected = errors.New("rejected")

// env is what a verb reads and writes; tests run the real binary, this
// keeps main small.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

const usage = `callcrm: trigger, sign and verify vendor webhooks; run the SDK's fakes.

Usage:
  callcrm trigger list
  callcrm trigger VENDOR EVENT -url URL -secret S [-set path=value ...] [-id ID] [-repeat N] [-out-of-order]
  callcrm lookup -url URL -secret S NUMBER
  callcrm verify VENDOR -secret S < request.txt        (a raw HTTP request as captured)
  callcrm verify VENDOR -secret S -header 'K: V' ... -body FILE
  callcrm sign VENDOR -secret S [-id ID] < body.json
  callcrm fake siro|engrami [-addr 127.0.0.1:PORT]

VENDOR is siro, symbo, callsync or sivo. -secret defaults to $CALLCRM_SECRET.
Run "callcrm VERB -h" for a verb's flags.

Exit codes:
  0  every request answered 2xx; verify: the signature verifies
  1  delivered but answered non-2xx (lookup: 404 too); verify: it does not verify
  2  usage error
  3  network or I/O error
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	case "trigger":
		err = cmdTrigger(ctx, args[1:], e)
	case "lookup":
		err = cmdLookup(ctx, args[1:], e)
	case "verify":
		err = cmdVerify(args[1:], e)
	case "sign":
		err = cmdSign(args[1:], e)
	case "fake":
		err = cmdFake(ctx, args[1:], e)
	default:
		err = usageErrorf("unknown verb %q", args[0])
	}
	var ue *usageError
	var ie *ioError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errRejected):
		return exitRejected
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "callcrm: %v\nRun \"callcrm -h\" or \"callcrm %s -h\".\n", err, args[0])
		return exitUsage
	case errors.As(err, &ie):
		fmt.Fprintf(e.stderr, "callcrm: %v\n", err)
		return exitIO
	}
	fmt.Fprintf(e.stderr, "callcrm: %v\n", err)
	return exitIO
}

// newFlags returns a verb's flag set writing its -h to stderr; synopsis
// and text head the help.
func newFlags(e *env, synopsis, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(synopsis, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: callcrm %s\n\n%s\n\nFlags:\n", synopsis, text)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nExit codes: 0 ok, 1 answered non-2xx / not verified, 2 usage error, 3 network or I/O error.\n")
	}
	return fs
}

// parseFlags parses args, allowing flags after the positional arguments
// ("trigger siro EVENT -url ..."); it returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// vendorAndSecret parses the flags and the one VENDOR argument of a
// command (sign, verify) and reads its -secret (parsed here) as
// secretFlag does.
func vendorAndSecret(e *env, cmd string, fs *flag.FlagSet, args []string, secretArg *string) (*vendor, string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(pos) != 1 {
		return nil, "", usageErrorf("%s wants one VENDOR, got %d arguments", cmd, len(pos))
	}
	v, err := lookupVendor(pos[0])
	if err != nil {
		return nil, "", err
	}
	secret, err := secretFlag(e, *secretArg)
	if err != nil {
		return nil, "", err
	}
	return v, secret, nil
}

// secretFlag reads -secret, else $CALLCRM_SECRET.
func secretFlag(e *env, s string) (string, error) {
	if s == "" {
		s = e.getenv("CALLCRM_SECRET")
	}
	if s == "" {
		return "", usageErrorf("-secret is required (or set CALLCRM_SECRET)")
	}
	return s, nil
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
