package sirotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/callcrm/callcrm-go/siro"
)

// crud is an in-memory collection of JSON objects keyed by id, for the
// simple resources (engagement users, opportunity users, connections).
type crud struct {
	prefix string
	// fields are the writable properties of the document's object; any
	// other key a request sends is ignored, never echoed.
	fields []string
	items  map[string]map[string]any
}

func newCRUD(prefix string, fields ...string) *crud {
	return &crud{prefix: prefix, fields: fields, items: map[string]map[string]any{}}
}

// take copies the writable fields of in into it, after checking that
// each has the type Siro documents (amountPercentage a number, isActive a
// boolean, the others strings); false leaves it unchanged.
func (c *crud) take(it, in map[string]any) bool {
	for _, k := range c.fields {
		if v, ok := in[k]; ok && v != nil && !fieldTypeOK(k, v) {
			return false
		}
	}
	for _, k := range c.fields {
		if v, ok := in[k]; ok && v != nil {
			it[k] = v
		}
	}
	return true
}

func fieldTypeOK(k string, v any) bool {
	switch k {
	case "amountPercentage":
		_, ok := v.(float64)
		return ok
	case "isActive":
		_, ok := v.(bool)
		return ok
	}
	_, ok := v.(string)
	return ok
}

func (c *crud) list(filter map[string]string) []map[string]any {
	out := []map[string]any{}
	for _, it := range c.items {
		ok := true
		for k, v := range filter {
			if v != "" && it[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["id"]) < fmt.Sprint(out[j]["id"]) })
	return out
}

// mountCRUD serves list (bare array), create, get, update and delete
// (bare boolean) under base, as Siro's /v1/integrations/*-users do.
func (s *Server) mountCRUD(mux *http.ServeMux, base string, c *crud, filters ...string) {
	mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		f := map[string]string{}
		for _, k := range filters {
			f[k] = r.URL.Query().Get(k)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		out := c.list(f)
		writeJSON(w, 200, out)
	})
	mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		in, ok := readObject(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		it := map[string]any{"id": s.nextID(c.prefix), "organizationId": s.OrganizationID,
			"integrationConnectionId": s.IntegrationConnectionID, "createdAt": s.now(), "updatedAt": s.now()}
		if !c.take(it, in) {
			writeErr(w, 400, badParams)
			return
		}
		c.items[it["id"].(string)] = it
		writeJSON(w, 200, it)
	})
	mux.HandleFunc("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		it, ok := c.items[r.PathValue("id")]
		if !ok {
			notFound(w)
			return
		}
		writeJSON(w, 200, it)
	})
	mux.HandleFunc("PUT "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		in, ok := readObject(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		it, ok := lookup(w, c.items, r.PathValue("id"))
		if !ok {
			return
		}
		if !c.take(it, in) {
			writeErr(w, 400, badParams)
			return
		}
		it["updatedAt"] = s.now()
		writeJSON(w, 200, it)
	})
	mux.HandleFunc("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, ok := c.items[r.PathValue("id")]
		delete(c.items, r.PathValue("id"))
		writeJSON(w, 200, ok)
	})
}

// readObject decodes a JSON object body, answering 400 when it cannot.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var in map[string]any
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return nil, false
	}
	return in, true
}

// AddCRMUser adds an external (CRM) user returned by the CRM users list.
func (s *Server) AddCRMUser(user map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := user["id"]; !ok {
		user["id"] = s.nextID("crmuser")
	}
	s.crmUsers.items[fmt.Sprint(user["id"])] = user
}

// AddMobileEvent adds a mobile event returned by the mobile events list.
func (s *Server) AddMobileEvent(e siro.MobileEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.ID == "" {
		e.ID = s.nextID("mev")
	}
	if raw(e.CreatedAt) == "" {
		e.CreatedAt = s.nowTime()
	}
	if e.OrganizationID == "" {
		e.OrganizationID = s.OrganizationID
	}
	if ev, ok := defaultMobileEvent[e.EventCode]; ok && len(e.Event) == 0 {
		e.Event = json.RawMessage(ev)
	}
	s.mobile = append(s.mobile, e)
}

// MultimediaEvents returns how many multimedia events were synced.
func (s *Server) MultimediaEvents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.multimedia
}

// mountMore serves the org API's remaining resources under p: the
// engagement and opportunity users, CRM users, mobile and multimedia
// events, integration connections and the OAuth app and token listings.
func (s *Server) mountMore(mux *http.ServeMux, p string) {
	s.mountCRUD(mux, p+"/v1/integrations/engagement-users", s.engagementUsers, "engagementId", "userId")
	s.mountCRUD(mux, p+"/v1/integrations/opportunity-users", s.opportunityUsers, "opportunityId", "userId")

	mux.HandleFunc("GET "+p+"/v1/integrations/users", s.listCRMUsers)
	mux.HandleFunc("GET "+p+"/v1/integrations/users/{id}", s.getCRMUser)
	mux.HandleFunc("GET "+p+"/v1/integrations/users/{id}/engagements", s.listCRMUserEngagements)

	mux.HandleFunc("GET "+p+"/v1/core/mobile-events", s.listMobileEvents)
	mux.HandleFunc("GET "+p+"/v1/core/mobile-events/{id}", s.getMobileEvent)

	mux.HandleFunc("PUT "+p+"/v1/integrations/multimedia-events", s.syncMultimediaEvent)
	mux.HandleFunc("PUT "+p+"/v1/integrations/batch/multimedia-events", s.syncMultimediaBatch)

	// Integration connections: text/plain errors, as Siro documents them.
	mux.HandleFunc("GET "+p+"/v1/core/integrations/connections", s.listConnections)
	mux.HandleFunc("POST "+p+"/v1/core/integrations/connections", s.createConnection)
	mux.HandleFunc("GET "+p+"/v1/core/integrations/connections/{id}", s.onConnection(s.getConnection))
	mux.HandleFunc("PATCH "+p+"/v1/core/integrations/connections/{id}", s.onConnection(s.updateConnection))
	mux.HandleFunc("DELETE "+p+"/v1/core/integrations/connections/{id}", s.onConnection(s.deleteConnection))
	mux.HandleFunc("PUT "+p+"/v1/core/integrations/salesforce", s.putSalesforce)

	// OAuth apps and token listings (std envelope).
	mux.HandleFunc("GET "+p+"/v1/core/oauth/apps", s.listApps)
	mux.HandleFunc("GET "+p+"/v1/core/oauth/apps/{clientId}", s.getApp)
	mux.HandleFunc("DELETE "+p+"/v1/core/oauth/apps/{clientId}", s.deleteApp)
	mux.HandleFunc("GET "+p+"/v1/core/oauth/apps/{clientId}/access-token", s.listTokens)
}

// --- CRM users -----------------------------------------------------------------

// listCRMUsers pages the CRM users by pageSize. Siro documents neither a
// default nor a maximum for it; the fake's default is 100, any positive
// integer is honoured, and anything else is answered 400.
func (s *Server) listCRMUsers(w http.ResponseWriter, r *http.Request) {
	in := readQuery(r)
	size := in.size("pageSize", 100, 1, 0)
	if in.reject(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := s.crmUsers.list(nil)
	data, next := page(items, in.q.Get("cursor"), size)
	writeJSON(w, 200, map[string]any{"data": data, "cursor": next})
}

func (s *Server) getCRMUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.crmUsers.items[r.PathValue("id")]
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, 200, map[string]any{"data": u})
}

// listCRMUserEngagements answers the engagements an engagement user links
// to the user, by start time (a bare array).
func (s *Server) listCRMUserEngagements(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	linked := map[string]bool{}
	for _, eu := range s.engagementUsers.items {
		if eu["userId"] == r.PathValue("id") {
			if id, ok := eu["engagementId"].(string); ok {
				linked[id] = true
			}
		}
	}
	out := []engagementAnswer{}
	for _, e := range s.engagements {
		if linked[e.ID] {
			out = append(out, s.engagementAnswer(e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartTime < out[j].StartTime })
	writeJSON(w, 200, out)
}

// --- mobile and multimedia events ----------------------------------------------

// listMobileEvents filters by eventCodeIn (repeated or comma-separated),
// the deprecated eventCode, userId, recordingId, and createdAtGt and
// createdAtLt (exclusive), in pages of pageSize (1 to 1000, default 100);
// a malformed date or page size is answered 400.
func (s *Server) listMobileEvents(w http.ResponseWriter, r *http.Request) {
	in := readQuery(r)
	created := timeBounds{After: in.time("createdAtGt"), Before: in.time("createdAtLt")}
	size := in.size("pageSize", 100, 1, 1000)
	if in.reject(w) {
		return
	}
	q := in.q
	codes := map[string]bool{}
	for _, v := range q["eventCodeIn"] {
		for _, c := range strings.Split(v, ",") {
			codes[c] = true
		}
	}
	if c := q.Get("eventCode"); c != "" && len(codes) == 0 {
		codes[c] = true
	}
	match := func(key, v string) bool { return q.Get(key) == "" || v == q.Get(key) }
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []mobileEventAnswer
	for _, e := range s.mobile {
		if (len(codes) == 0 || codes[string(e.EventCode)]) && match("userId", e.UserID) && match("recordingId", e.RecordingID) &&
			created.admit(instant(e.CreatedAt)) {
			items = append(items, mobileEventOf(e))
		}
	}
	data, next := page(items, q.Get("cursor"), size)
	// The spec declares data as an array of arrays: answer that shape.
	writeJSON(w, 200, map[string]any{"data": [][]mobileEventAnswer{nonNil(data)}, "cursor": next})
}

func (s *Server) getMobileEvent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.mobile {
		if e.ID == r.PathValue("id") {
			writeJSON(w, 200, mobileEventOf(e))
			return
		}
	}
	notFound(w)
}

func (s *Server) syncMultimediaEvent(w http.ResponseWriter, r *http.Request) {
	var in siro.MultimediaEvent
	if err := decodeBody(r, &in); err != nil || in.ExternalID == "" {
		writeIssues(w, []any{"externalId"}, "Required")
		return
	}
	s.addMultimedia(w, 1)
}

func (s *Server) syncMultimediaBatch(w http.ResponseWriter, r *http.Request) {
	var in []siro.MultimediaEvent
	if err := decodeBody(r, &in); err != nil {
		writeErr(w, 400, badParams)
		return
	}
	s.addMultimedia(w, len(in))
}

// addMultimedia counts n synced multimedia events and answers 201.
func (s *Server) addMultimedia(w http.ResponseWriter, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.multimedia += n
	writeJSON(w, 201, map[string]any{"data": nil})
}

// --- integration connections ---------------------------------------------------

const connNotFound = "Integration connection not found or you do not have permission to view it."

// writePlain answers a text/plain error, as Siro's integration connection
// routes do.
func writePlain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	items := s.connections.list(map[string]string{"integrationPlatform": r.URL.Query().Get("integrationPlatform")})
	data, next := page(items, r.URL.Query().Get("cursor"), 100)
	writeJSON(w, 200, map[string]any{"data": data, "cursor": next})
}

// createConnection allows one connection per integration platform.
func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := decodeBody(r, &in); err != nil || in["name"] == nil || in["externalAccountId"] == nil {
		writeIssues(w, []any{"name"}, "Required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.connections.list(map[string]string{"integrationPlatform": toString(in["integrationPlatform"])})) > 0 {
		writePlain(w, 409, "Duplicate connection for integration platform for org")
		return
	}
	if _, ok := in["isActive"]; !ok {
		in["isActive"] = true
	}
	it := map[string]any{"id": s.nextID("ic"), "organizationId": s.OrganizationID, "createdAt": s.now(), "updatedAt": s.now(),
		"syncStatus": []any{}}
	if !s.connections.take(it, in) {
		writeIssues(w, []any{"name"}, "Expected string")
		return
	}
	s.connections.items[it["id"].(string)] = it
	writeJSON(w, 201, it)
}

// onConnection answers with answer, under the lock, for the connection
// the path's id names, and Siro's text/plain 404 when there is none.
func (s *Server) onConnection(answer func(w http.ResponseWriter, r *http.Request, c map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.connections.items[r.PathValue("id")]
		if !ok {
			writePlain(w, 404, connNotFound)
			return
		}
		answer(w, r, c)
	}
}

func (s *Server) getConnection(w http.ResponseWriter, _ *http.Request, c map[string]any) {
	writeJSON(w, 200, c)
}

// updateConnection changes only name, isActive and syncTranscript.
func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request, c map[string]any) {
	var in map[string]any
	_ = decodeBody(r, &in)
	for _, k := range []string{"name", "isActive", "syncTranscript"} {
		if v, ok := in[k]; ok && v != nil {
			c[k] = v
		}
	}
	c["updatedAt"] = s.now()
	writeJSON(w, 200, c)
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request, c map[string]any) {
	delete(s.connections.items, r.PathValue("id"))
	writeJSON(w, 200, c)
}

func (s *Server) putSalesforce(w http.ResponseWriter, r *http.Request) {
	var in siro.SalesforceParams
	if err := decodeBody(r, &in); err != nil || in.Namespace == "" || in.OrgID == "" || in.InstanceURL == "" {
		writeIssues(w, []any{"namespace"}, "Required")
		return
	}
	writeJSON(w, 200, map[string]any{"integrationConnectionId": s.IntegrationConnectionID, "isActive": true})
}

// --- OAuth apps and token listings ---------------------------------------------

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	q, ok := required(w, r, "organizationId", "owner")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var apps []map[string]any
	for id, app := range s.apps {
		if app.owner == q.Get("owner") && q.Get("organizationId") == s.OrganizationID {
			apps = append(apps, s.appView(id))
		}
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i]["clientId"].(string) < apps[j]["clientId"].(string) })
	writeJSON(w, 200, map[string]any{"data": nonNil(apps), "cursor": nil, "limit": 100, "hasNextPage": false})
}

// getApp answers an app, deleted or not: a deleted app has deleted true
// and deletedAt set.
func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[r.PathValue("clientId")]; !ok {
		notFound(w)
		return
	}
	writeJSON(w, 200, map[string]any{"data": s.appView(r.PathValue("clientId"))})
}

// deleteApp soft-deletes the app and revokes its tokens, as Siro
// documents: the app stays readable (deleted, deletedAt), its tokens stay
// readable with revokedAt set, and neither mints nor authenticates again.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("clientId")
	now := s.clock.Now()
	if app, ok := s.apps[id]; ok && app.deleted.IsZero() {
		app.deleted = now
	}
	for tok, info := range s.tokens {
		if info.clientID == id && info.revoked.IsZero() {
			info.revoked = now // deleting an app revokes its tokens
			s.tokens[tok] = info
		}
	}
	// Siro declares no error for this route, only the 200 echoing the
	// clientId; the fake answers so for an unknown or already deleted id
	// too (an idempotent delete) rather than invent a 404.
	writeJSON(w, 200, map[string]string{"clientId": id})
}

// listTokens lists the app's tokens of the user owner (whom each was
// minted for), revoked ones included (revokedAt set).
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	q, ok := required(w, r, "owner")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, info := range s.tokens {
		if info.clientID == r.PathValue("clientId") && info.userID == q.Get("owner") {
			out = append(out, s.tokenAnswer(info))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["accessTokenId"].(string) < out[j]["accessTokenId"].(string) })
	writeJSON(w, 200, map[string]any{"data": nonNil(out), "cursor": nil})
}

// appView is the document's OAuthApp. Call with s.mu held.
func (s *Server) appView(id string) map[string]any {
	const layout = "2006-01-02T15:04:05Z"
	app := s.apps[id]
	var deletedAt any
	updated := app.created
	if !app.deleted.IsZero() {
		updated = app.deleted
		deletedAt = app.deleted.UTC().Format(layout)
	}
	return map[string]any{"appName": app.name, "clientId": id, "organizationId": s.OrganizationID, "owner": app.owner,
		"deleted": !app.deleted.IsZero(), "createdAt": app.created.UTC().Format(layout), "updatedAt": updated.UTC().Format(layout), "deletedAt": deletedAt}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}
