package symbo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
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

// ErrNotFound is returned by a LookupFunc when no contact matches; the
// handler answers 404.
var ErrNotFound = errors.New("symbo: contact not found")

// LookupFunc finds the contact for an E.164 number.
type LookupFunc func(ctx context.Context, number string) (*Contact, error)

// DefaultLookupTimeout bounds a lookup so the dialer is never left waiting.
const DefaultLookupTimeout = 3 * time.Second

// LookupOption configures NewLookupHandler.
type LookupOption func(*lookupHandler) error

// WithLookupTimeout sets the lookup deadline (default 3 s); past it the
// handler answers 504 at once.
func WithLookupTimeout(d time.Duration) LookupOption {
	return func(h *lookupHandler) error {
		if d <= 0 {
			return fmt.Errorf("symbo: lookup timeout %v must be positive", d)
		}
		h.timeout = d
		return nil
	}
}

// WithLookupLogger logs failed lookups and invalid contacts.
func WithLookupLogger(l *slog.Logger) LookupOption {
	return func(h *lookupHandler) error { h.log = l; return nil }
}

type lookupHandler struct {
	fn      LookupFunc
	timeout time.Duration
	log     *slog.Logger
}

// NewLookupHandler returns the endpoint Symbo calls on dial
// (GET ?number=<E.164>): 200 with the contact, 404 when fn returns
// ErrNotFound (or nil), 400 for a missing or invalid number, 405 for other
// methods, 500 when fn fails or returns a contact missing required fields
// (logged, never sent), 504 when fn exceeds the deadline.
func NewLookupHandler(fn LookupFunc, opts ...LookupOption) (http.Handler, error) {
	if fn == nil {
		return nil, errors.New("symbo: lookup function is nil")
	}
	h := &lookupHandler{fn: fn, timeout: DefaultLookupTimeout}
	for _, o := range opts {
		if err := o(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

type lookupResult struct {
	c   *Contact
	err error
}

func (h *lookupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.answer(w, r, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	raw, ok := r.URL.Query()["number"]
	if !ok || len(raw) != 1 || raw[0] == "" {
		h.answer(w, r, http.StatusBadRequest, "query parameter number is required once", nil)
		return
	}
	number, err := ParseE164(raw[0])
	if err != nil {
		h.answer(w, r, http.StatusBadRequest, "number is not E.164", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	done := make(chan lookupResult, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- lookupResult{err: fmt.Errorf("symbo: lookup panicked: %v", p)}
			}
		}()
		c, err := h.fn(ctx, number)
		done <- lookupResult{c, err}
	}()
	var res lookupResult
	select {
	case res = <-done:
	case <-ctx.Done():
		h.answer(w, r, http.StatusGatewayTimeout, "lookup timed out", ctx.Err())
		return
	}
	switch {
	case errors.Is(res.err, ErrNotFound) || (res.err == nil && res.c == nil):
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

func (h *lookupHandler) answer(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if h.log != nil && status >= 400 && status != http.StatusNotFound {
		attrs := []slog.Attr{slog.Int("status", status), slog.String("reason", msg)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "symbo: contact lookup", attrs...)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
