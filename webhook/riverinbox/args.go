package riverinbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callcrm/callcrm-go/webhook"
)

// Kind is the River job kind of every stored delivery (filter JobList on
// it to see only webhook deliveries).
const Kind = "callcrm_webhook_delivery"

// DefaultQueue is the River queue deliveries go to unless WithQueue names
// another.
const DefaultQueue = "callcrm_webhooks"

// DefaultSchema is the PostgreSQL schema the inbox keeps River's tables in
// unless WithSchema names another: its own, so no other River client's
// cleaner (which deletes completed jobs with that client's retention)
// works on the inbox's jobs. Migrate creates it.
const DefaultSchema = "callcrm_inbox"

// DeliveryArgs is one stored delivery: the River job's arguments. River
// keeps them as JSON in river_job.args; Raw is base64 there, so the exact
// verified bytes survive. Provider, Receiver, Tenant and ID make the job
// unique.
type DeliveryArgs struct {
	// Provider is the vendor ("sivo", "siro", ...).
	Provider string `json:"provider" river:"unique"`
	// Receiver is the receiver's name (webhook.WithName; "default").
	Receiver string `json:"receiver" river:"unique"`
	// Tenant is the account the delivery was addressed to ("" for fixed
	// secrets).
	Tenant string `json:"tenant,omitempty" river:"unique"`
	// TenantRaw holds the exact tenant when Tenant had to be escaped (it
	// held a NUL or invalid UTF-8); nil otherwise.
	TenantRaw []byte `json:"tenant_raw,omitempty" river:"unique"`
	// ID is the vendor's delivery key. A key that JSON in PostgreSQL
	// cannot hold (a NUL character, invalid UTF-8) is stored escaped here
	// and exactly in IDRaw.
	ID string `json:"id" river:"unique"`
	// IDRaw holds the exact key when ID had to be escaped; nil otherwise.
	IDRaw []byte `json:"id_raw,omitempty" river:"unique"`
	// Type is the vendor's event type (escaped like ID; the callback sees
	// the type parsed again from Raw).
	Type string `json:"type,omitempty"`
	// Raw is the verified body.
	Raw []byte `json:"raw"`
	// Header holds the request headers the vendor's receiver keeps
	// (signature, delivery id and content type headers), without
	// credentials (Authorization, Cookie and the like are never stored).
	Header http.Header `json:"header,omitempty"`
	// Delivery is what signature verification established.
	Delivery webhook.Delivery `json:"delivery"`
	// ReceivedAt is when the receiver read the delivery.
	ReceivedAt time.Time `json:"received_at"`
	// Trace is the W3C trace context of the request that stored the
	// delivery (webhook.Observer.Inject), so the job continues its trace.
	Trace map[string]string `json:"trace,omitempty"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return Kind }

// Event rebuilds the webhook.Event the receiver stored.
func (a DeliveryArgs) Event() *webhook.Event {
	id, tenant := a.ID, a.Tenant
	if a.IDRaw != nil {
		id = string(a.IDRaw)
	}
	if a.TenantRaw != nil {
		tenant = string(a.TenantRaw)
	}
	return &webhook.Event{Provider: a.Provider, Receiver: a.Receiver, Tenant: tenant, ID: id, Type: a.Type, Raw: a.Raw,
		Header: a.Header, Delivery: a.Delivery, ReceivedAt: a.ReceivedAt, Trace: a.Trace}
}

// key is the delivery's identity in the processed table: a hash, so any
// bytes (NUL included) and any length fit every database. scope (the
// queue of an inbox not on DefaultQueue) qualifies it.
func (a DeliveryArgs) key(scope ...string) string {
	h := sha256.New()
	id, tenant := a.ID, a.Tenant
	if a.IDRaw != nil {
		id = string(a.IDRaw)
	}
	if a.TenantRaw != nil {
		tenant = string(a.TenantRaw)
	}
	for _, s := range append([]string{a.Provider, a.Receiver, tenant, id}, scope...) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// storable reports whether s survives JSON in PostgreSQL unchanged: valid
// UTF-8 without NUL (jsonb refuses \u0000 with 22P05).
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// escape makes s storable, readably (for listing); not reversible.
func escape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", `\u0000`)
}

// credentialHeaders are never stored with a delivery, whatever the
// receiver kept: they can hold secrets and verification does not need
// them.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "Api-Key", "X-Auth-Token"}

func newArgs(ev *webhook.Event) DeliveryArgs {
	a := DeliveryArgs{Provider: ev.Provider, Receiver: ev.Receiver, Tenant: ev.Tenant, ID: ev.ID, Type: ev.Type, Raw: ev.Raw,
		Delivery: ev.Delivery, ReceivedAt: ev.ReceivedAt, Trace: ev.Trace}
	if !storable(a.ID) {
		a.IDRaw = []byte(a.ID)
		a.ID = escape(a.ID)
	}
	if !storable(a.Tenant) {
		a.TenantRaw = []byte(a.Tenant)
		a.Tenant = escape(a.Tenant)
	}
	if !storable(a.Type) {
		a.Type = escape(a.Type)
	}
	if !storable(a.Delivery.ID) {
		a.Delivery.ID = escape(a.Delivery.ID)
	}
	if ev.Header != nil {
		a.Header = make(http.Header, len(ev.Header))
		for k, v := range ev.Header {
			a.Header[k] = v
		}
		for _, k := range credentialHeaders {
			a.Header.Del(k)
		}
	}
	return a
}
