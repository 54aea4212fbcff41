package symbo

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/endpointopt"
	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Contact is the body Symbo expects from a contact lookup. ExternalID and
// FirstName are required; an Account needs ExternalID and Name.
type Contact struct {
	ExternalID     string   `json:"external_id"`
	FirstName      string   `json:"first_name"`
	LastName       string   `json:"last_name"`
	WorkEmail      string   `json:"work_email"`
	PersonalEmail  string   `json:"personal_email"`
	WorkPhone      string   `json:"work_phone"`
	MobilePhone    string   `json:"mobile_phone"`
	HomePhone      string   `json:"home_phone"`
	OtherPhone     string   `json:"other_phone"`
	AddressCity    string   `json:"address_city"`
	AddressCountry string   `json:"address_country"`
	AddressState   string   `json:"address_state"`
	AddressStreet  string   `json:"address_street"`
	AddressStreet2 string   `json:"address_street_2"`
	AddressZip     string   `json:"address_zip"`
	LinkedInURL    string   `json:"linkedin_url"`
	FacebookURL    string   `json:"facebook_url"`
	PersonalNote1  string   `json:"personal_note_1"`
	TimeZone       string   `json:"time_zone"`
	Title          string   `json:"title"`
	WebsiteURL1    string   `json:"website_url_1"`
	Account        *Account `json:"account,omitempty"`
}

// Account is the contact's company.
type Account struct {
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	WebsiteURL string `json:"website_url"`
	Industry   string `json:"industry"`
}

// Validate checks the fields Symbo requires.
func (c *Contact) Validate() error {
	var missing []string
	if c.ExternalID == "" {
		missing = append(missing, "external_id")
	}
	if c.FirstName == "" {
		missing = append(missing, "first_name")
	}
	if c.Account != nil {
		if c.Account.ExternalID == "" {
			missing = append(missing, "account.external_id")
		}
		if c.Account.Name == "" {
			missing = append(missing, "account.name")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("symbo: contact is missing required fields %v", missing)
	}
	return nil
}

// ErrNoContact is what your LookupFunc returns when no contact matches
// the number; the handler answers Symbo 404. (It is yours to return, not
// an answer of a vendor's API: the ErrNotFound of siro and engrami match
// their APIs' 404.)
var ErrNoContact = errors.New("symbo: contact not found")

// LookupFunc finds the contact for an E.164 number. With
// WithLookupSecretSource, webhook.TenantFrom(ctx) names the account whose
// secret signed the lookup; a lookup let in by WithLookupToken's shared
// token (or InsecureNoAuth) has no tenant.
type LookupFunc func(ctx context.Context, number string) (*Contact, error)

// DefaultLookupTimeout bounds a lookup so the dialer is never left waiting.
const DefaultLookupTimeout = 3 * time.Second

// LookupOption configures NewLookupHandler: WithLookupToken,
// WithLookupSecretSource, InsecureNoAuth, InsecureAcceptEmptyBodySignature, WithLookupTimeout,
// WithLookupLogger and WithLookupErrorHook. A lookup is answered inline
// and never deduplicated, so the receivers' options (webhook.WithInbox,
// ...) are not LookupOptions and do not compile there.
type LookupOption func(*lookupSettings) error

// lookupSettings is what LookupOptions fill.
type lookupSettings struct {
	endpointopt.Settings // timeout, logger, error hook, secret source
	token                string
	open                 bool
	emptyBody            bool
}

// WithLookupSecretSource makes the lookup resolve its webhook secrets per
// request, as webhook.WithSecretSource does for the receivers: tenant
// names the tenant from what you configured (webhook.TenantFromPath("tenant")
// for a handler mounted on "/symbo/{tenant}/lookup", or
// webhook.FixedTenant), never from the query or a header; src returns
// every secret of that tenant that verifies now (old and new during a
// rotation; a removed one stops verifying on the next request). The
// verifier built from them is cached per tenant and secret list. An
// unknown tenant answers 404; a failing source answers 503 with
// Retry-After (never 401). The strict-signature rule applies unchanged:
// only an HMAC over the raw query verifies, unless
// InsecureAcceptEmptyBodySignature. The LookupFunc reads the tenant with
// webhook.TenantFrom(ctx). NewLookupHandler's fixed secrets may then be
// nil; if both are given, the source wins.
func WithLookupSecretSource(src webhook.SecretSource, tenant webhook.TenantFunc) LookupOption {
	return endpointopt.SecretSource[*lookupSettings]("symbo", "WithLookupSecretSource", src, tenant)
}

// WithLookupToken authenticates the lookup with a shared token the user
// puts in the lookup URL they give Symbo (https://crm.example/symbo/lookup?token=...);
// it is compared in constant time. Use it when your Symbo account does
// not sign lookups. It must be at least 16 characters.
func WithLookupToken(token string) LookupOption {
	return func(s *lookupSettings) error {
		if len(token) < 16 {
			return opterr.New("symbo", "WithLookupToken", webhook.ErrInvalidOption, "token must be at least 16 characters")
		}
		s.token = token
		return nil
	}
}

// InsecureNoAuth serves the lookup to any caller. Contact lookups return
// personal data: use it only behind your own authentication.
func InsecureNoAuth() LookupOption {
	return func(s *lookupSettings) error { s.open = true; return nil }
}

// WithLookupTimeout bounds fn (default DefaultLookupTimeout): at the
// deadline Symbo gets 504. It must be positive.
func WithLookupTimeout(d time.Duration) LookupOption {
	return endpointopt.Timeout[*lookupSettings]("symbo", "WithLookupTimeout", d)
}

// WithLookupLogger logs one line per refused or failed lookup, with the
// keys every receiver uses (webhook.WithLogger), and at debug level which
// credential matched; never the number's contact or a secret. nil
// discards.
func WithLookupLogger(l *slog.Logger) LookupOption {
	return endpointopt.Logger[*lookupSettings](l)
}

// WithLookupErrorHook receives every refused or failed lookup with its
// error (webhook.WithErrorHook). A panic in fn is recovered and logged.
func WithLookupErrorHook(fn func(r *http.Request, err error)) LookupOption {
	return endpointopt.ErrorHook[*lookupSettings](fn)
}

// InsecureAcceptEmptyBodySignature makes the lookup also accept an
// X-Hmac-Signature computed over the empty body. That value is the same
// for every request: whoever sees one (a proxy log, say) can look up any
// number with it, for as long as the secret lives. Strict lookups (the
// default) accept only an HMAC over the query string, which binds the
// signature to the number asked for; they log a refused empty-body
// signature so you can tell if your Symbo account signs that way (Symbo
// does not document what it signs on a GET). Prefer WithLookupToken over
// this option if it does. It needs the webhook secrets (fixed or
// WithLookupSecretSource).
func InsecureAcceptEmptyBodySignature() LookupOption {
	return func(s *lookupSettings) error { s.emptyBody = true; return nil }
}

// LookupHandler is the endpoint Symbo calls on dial. Create it with
// NewLookupHandler.
type LookupHandler struct {
	fn        LookupFunc
	timeout   time.Duration
	cfg       *webhook.Config
	hmac      *webhook.HMAC
	token     string
	open      bool
	emptyBody bool // InsecureAcceptEmptyBodySignature
	source    bool // WithLookupSecretSource: verifiers come from cfg.Verifier
}

// NewLookupHandler returns the endpoint Symbo calls on dial
// (GET ?number=<E.164>). It authenticates its caller, because it serves
// personal data:
//
//   - with secrets (the webhook_secret Symbo gave you; several during a
//     rotation), it verifies X-Hmac-Signature as an HMAC over the raw
//     query string as sent ("number=+18005551212" in Symbo's example):
//     strict lookup signatures, the default. Symbo says every request it sends carries
//     a signature but not what it signs on a GET. An HMAC over the empty
//     body would be one fixed value for every request (a bearer token
//     that unlocks every contact and can be replayed), so it is refused
//     with 401 and logged at warn level ("HMAC over the empty body")
//     unless InsecureAcceptEmptyBodySignature is given;
//   - with WithLookupSecretSource, the same HMAC check with the secrets
//     the source returns for the request's tenant (404 for an unknown
//     tenant, 503 with Retry-After while the source fails);
//   - with WithLookupToken, a ?token= in the URL is compared in constant
//     time;
//   - with neither, construction fails unless InsecureNoAuth is given.
//
// Even strict, a signed lookup has no timestamp: a captured request can
// be replayed, but only for the number it was signed for. Serve the
// lookup over HTTPS only.
//
// Answers: 200 with the contact, 404 when fn returns ErrNoContact (or
// nil), 400 for a missing or invalid number, 401 for a caller that does
// not authenticate, 405 for other methods, 500 when fn fails, panics or
// returns a contact missing required fields (logged, never sent), 504 at
// the deadline (WithLookupTimeout, default 3 s) even if fn ignores its
// context. Its options are LookupOptions: WithLookupLogger and
// WithLookupErrorHook report like a receiver's webhook.WithLogger and
// webhook.WithErrorHook.
func NewLookupHandler(secrets []string, fn LookupFunc, opts ...LookupOption) (*LookupHandler, error) {
	if fn == nil {
		return nil, opterr.New("symbo", "NewLookupHandler", webhook.ErrInvalidOption, "fn is nil")
	}
	ls := lookupSettings{Settings: endpointopt.Settings{Timeout: DefaultLookupTimeout}}
	cfg, err := endpointopt.Apply("symbo", "NewLookupHandler", &ls, opts)
	if err != nil {
		return nil, opterr.Rewrap("symbo", "NewLookupHandler", err, len(secrets))
	}
	h := &LookupHandler{fn: fn, cfg: cfg, timeout: ls.Timeout, token: ls.token, open: ls.open, emptyBody: ls.emptyBody, source: ls.Source != nil}
	if len(secrets) > 0 && !h.source {
		if h.hmac, err = webhook.NewHMAC(HeaderSignature, "", secrets...); err != nil {
			return nil, opterr.Rewrap("symbo", "NewLookupHandler", err, len(secrets))
		}
	}
	if h.emptyBody && h.hmac == nil && !h.source {
		return nil, opterr.New("symbo", "NewLookupHandler", webhook.ErrInvalidOption, "InsecureAcceptEmptyBodySignature needs the webhook secrets")
	}
	if h.hmac == nil && !h.source && h.token == "" && !h.open {
		return nil, opterr.New("symbo", "NewLookupHandler", webhook.ErrInvalidOption, "the contact lookup serves personal data: give the webhook secrets, WithLookupSecretSource, WithLookupToken, or InsecureNoAuth")
	}
	return h, nil
}

type lookupResult struct {
	c   *Contact
	err error
}

// authenticate checks the caller; it returns which credential matched
// and the tenant a secret source resolved ("" without one).
func (h *LookupHandler) authenticate(r *http.Request) (how, tenant string, err error) {
	if h.open {
		return "none (InsecureNoAuth)", "", nil
	}
	if h.token != "" {
		if got := r.URL.Query().Get("token"); got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) == 1 {
			return "token", "", nil
		}
	}
	var v webhook.Verifier
	if h.hmac != nil {
		v = h.hmac
	}
	if h.source {
		// The tenant comes from the TenantFunc the user configured; its
		// errors answer 404 (unknown tenant) or 503 (source failing).
		sv, t, err := h.cfg.Verifier(r.Context(), r, nil, newLookupHMAC)
		if err != nil {
			return "", "", err
		}
		v, tenant = sv, t
	}
	if v != nil && r.Header.Get(HeaderSignature) != "" {
		_, err := v.Verify(r.Header, []byte(r.URL.RawQuery))
		if err == nil {
			return "hmac(raw query)", tenant, nil
		}
		if _, empty := v.Verify(r.Header, nil); empty == nil {
			if h.emptyBody {
				return "hmac(empty body)", tenant, nil
			}
			return "", "", fmt.Errorf("%w: %s is an HMAC over the empty body, the same for every request; strict lookups accept only an HMAC over the query (symbo.InsecureAcceptEmptyBodySignature accepts it)",
				webhook.ErrNoMatchingSignature, HeaderSignature)
		}
		return "", "", err
	}
	return "", "", fmt.Errorf("%w: no valid %s or token", webhook.ErrMissingHeader, HeaderSignature)
}

// newLookupHMAC builds the lookup's verifier from a source's secrets.
func newLookupHMAC(secrets []string) (webhook.Verifier, error) {
	return webhook.NewHMAC(HeaderSignature, "", secrets...)
}

// ServeHTTP implements http.Handler.
func (h *LookupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.answer(w, r, http.StatusMethodNotAllowed, "method not allowed", webhook.ErrMethodNotAllowed)
		return
	}
	how, tenant, err := h.authenticate(r)
	if err != nil {
		status, msg := webhook.StatusCode(err), "unauthorized"
		switch status {
		case http.StatusNotFound:
			msg = "unknown tenant"
		case http.StatusServiceUnavailable:
			msg = "secrets unavailable, retry later"
		}
		h.answer(w, r, status, msg, err)
		return
	}
	if l := h.cfg.Logger(); l != nil {
		l.LogAttrs(r.Context(), slog.LevelDebug, "symbo: contact lookup authenticated", slog.String("provider", "symbo"), slog.String("auth", how))
	}
	raw, ok := r.URL.Query()["number"]
	if !ok || len(raw) != 1 || raw[0] == "" {
		h.answer(w, r, http.StatusBadRequest, "query parameter number is required once", errors.New("symbo: number missing or repeated"))
		return
	}
	number, err := ParseE164(raw[0])
	if err != nil {
		h.answer(w, r, http.StatusBadRequest, "number is not E.164", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	if tenant != "" {
		ctx = webhook.ContextWithTenant(ctx, tenant) // webhook.TenantFrom in fn
	}
	done := make(chan lookupResult, 1)
	go func() {
		res := lookupResult{err: errors.New("symbo: lookup called runtime.Goexit")}
		defer func() {
			if p := recover(); p != nil {
				res = lookupResult{err: fmt.Errorf("symbo: lookup panicked: %v", p)}
			}
			done <- res
		}()
		res.c, res.err = h.fn(ctx, number)
	}()
	var res lookupResult
	select {
	case res = <-done:
	case <-ctx.Done():
		h.answer(w, r, http.StatusGatewayTimeout, "lookup timed out", ctx.Err())
		return
	}
	switch {
	case errors.Is(res.err, ErrNoContact) || (res.err == nil && res.c == nil):
		h.answer(w, r, http.StatusNotFound, "not found", nil)
		return
	case res.err != nil:
		h.answer(w, r, http.StatusInternalServerError, "lookup failed", res.err)
		return
	}
	if err := res.c.Validate(); err != nil {
		h.answer(w, r, http.StatusInternalServerError, "invalid contact", err)
		return
	}
	body, err := json.Marshal(res.c)
	if err != nil {
		h.answer(w, r, http.StatusInternalServerError, "encoding contact", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (h *LookupHandler) answer(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if status != http.StatusNotFound {
		h.cfg.Report(r, "symbo", "", "call:contactlookup", status, err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// String describes the lookup handler without its credentials: the
// lookup token (and the HMAC key states) grant access to contact data, so
// no verb of fmt may print them.
func (h LookupHandler) String() string {
	auth := "hmac"
	if h.source {
		auth = "hmac (secret source)"
	}
	switch {
	case h.open:
		auth = "none"
	case h.token != "" && (h.hmac != nil || h.source):
		auth = "hmac+token"
	case h.token != "":
		auth = "token"
	}
	if h.emptyBody && (h.hmac != nil || h.source) {
		auth += " (empty-body hmac accepted)"
	}
	return "symbo.LookupHandler{auth: " + auth + ", timeout: " + h.timeout.String() + ", [redacted]}"
}

// GoString is String, so %#v redacts too.
func (h LookupHandler) GoString() string { return h.String() }

// Format prints String for every verb.
func (h LookupHandler) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, h.String()) }
