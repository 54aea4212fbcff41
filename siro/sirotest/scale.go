package sirotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// scale holds the options for large runs (sliding rate window, records
// Siro rejects, stateless syncs). Its methods run inside wrap, after auth,
// faults and the fixed-window limit.
type scale struct {
	limit     int
	reject    func(externalID string) (field, message string)
	stateless func(kind, externalID string)

	mu       sync.Mutex
	arrivals map[string][]time.Time // per credential, within the last minute
	maxSeen  int
	limited  int
	total    int64
	seq      int64
}

func (s *Server) scaleState() *scale {
	if s.scale == nil {
		s.scale = &scale{arrivals: map[string][]time.Time{}}
	}
	return s.scale
}

// WithWindowRateLimit enforces Siro's limit the strict way: past n
// requests per token in any 60-second window of the fake's clock (the
// window (t-60s, t]), it answers 429 "Rate limit exceeded" (text/plain, no
// Retry-After: Siro declares none). Every arrival counts, answered or not;
// MaxInWindow reports the most seen.
func WithWindowRateLimit(n int) Option { return func(s *Server) { s.scaleState().limit = n } }

// WithSyncRejects makes the sync endpoints (single and batch, engagements
// and opportunities) refuse records as Siro does for rules a client cannot
// check: fn returns the offending field and message for a record's
// externalId, or "" to accept it. A batch with any refused record is
// answered 422 with one Zod issue per refused record (path [index, field])
// and nothing stored.
func WithSyncRejects(fn func(externalID string) (field, message string)) Option {
	return func(s *Server) { s.scaleState().reject = fn }
}

// WithStatelessSync makes the sync endpoints store nothing: each upserted
// record is answered with a minimal Siro record and reported to fn (kind
// is "engagement" or "opportunity"), so a test of millions of records
// counts upserts per externalId without the fake's memory dwarfing the
// client's.
func WithStatelessSync(fn func(kind, externalID string)) Option {
	return func(s *Server) { s.scaleState().stateless = fn }
}

// MaxInWindow returns the most requests one token made in any 60-second
// window of the fake's clock (with WithWindowRateLimit).
func (s *Server) MaxInWindow() int { return scaleCount(s, func(sc *scale) int { return sc.maxSeen }) }

// Arrivals returns how many org API requests reached the window
// accounting (every one that passed auth and injected faults, once a
// scale option is set). A simulation driver compares it with the requests
// its limiters granted, to move the fake clock only when none is in flight.
func (s *Server) Arrivals() int64 { return scaleCount(s, func(sc *scale) int64 { return sc.total }) }

// RateLimited returns how many requests WithWindowRateLimit refused.
func (s *Server) RateLimited() int { return scaleCount(s, func(sc *scale) int { return sc.limited }) }

// scaleCount reads one counter of the scale state under its lock; 0 when
// no scale option is set.
func scaleCount[T int | int64](s *Server, read func(*scale) T) T {
	if s.scale == nil {
		return 0
	}
	s.scale.mu.Lock()
	defer s.scale.mu.Unlock()
	return read(s.scale)
}

// scaleMiddleware wraps the org routes when a scale option is set.
func (s *Server) scaleMiddleware(next http.Handler) http.Handler {
	sc := s.scale
	if sc == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc.arrive(r.Header.Get("Authorization"), s.clock.Now()) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, "Rate limit exceeded")
			return
		}
		kind, batch := syncRoute(r)
		if kind == "" || (sc.reject == nil && sc.stateless == nil) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			writeErr(w, 400, badParams)
			return
		}
		type idOnly struct {
			ExternalID string `json:"externalId"`
		}
		recs := make([]idOnly, 1)
		if batch {
			err = json.Unmarshal(body, &recs)
		} else {
			err = json.Unmarshal(body, &recs[0])
		}
		if err != nil {
			writeErr(w, 400, badParams)
			return
		}
		if sc.reject != nil {
			var issues []map[string]any
			for i, rec := range recs {
				if field, msg := sc.reject(rec.ExternalID); field != "" {
					path := []any{field}
					if batch {
						path = []any{i, field}
					}
					issues = append(issues, map[string]any{"code": "custom", "path": path, "message": msg})
				}
			}
			if len(issues) > 0 {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"issues": issues, "name": "ZodError"})
				return
			}
		}
		if sc.stateless == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
			return
		}
		stamp := s.now()
		var b bytes.Buffer
		b.WriteString(`{"data":`)
		if batch {
			b.WriteByte('[')
		}
		prefix := map[string]string{"engagement": "eng", "opportunity": "opp"}[kind]
		for i, rec := range recs {
			if rec.ExternalID == "" {
				writeIssues(w, []any{i, "externalId"}, "Required")
				return
			}
			if i > 0 {
				b.WriteByte(',')
			}
			sc.mu.Lock()
			sc.seq++
			id := fmt.Sprintf("%s_%09d", prefix, sc.seq)
			sc.mu.Unlock()
			ext, _ := json.Marshal(rec.ExternalID)
			fmt.Fprintf(&b, `{"id":%q,"externalId":%s,"organizationId":%q,"createdAt":%q,"updatedAt":%q}`, id, ext, s.OrganizationID, stamp, stamp)
		}
		if batch {
			b.WriteByte(']')
		}
		b.WriteByte('}')
		for _, rec := range recs {
			sc.stateless(kind, rec.ExternalID)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.Bytes())
	})
}

// arrive records a request of cred at now and reports whether it is over
// the window limit.
func (sc *scale) arrive(cred string, now time.Time) (over bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.total++
	q := sc.arrivals[cred]
	cut := 0
	for cut < len(q) && !q[cut].After(now.Add(-time.Minute)) {
		cut++
	}
	q = append(q[cut:], now)
	sc.arrivals[cred] = q
	sc.maxSeen = max(sc.maxSeen, len(q))
	over = sc.limit > 0 && len(q) > sc.limit
	if over {
		sc.limited++
	}
	return over
}

// syncRoute names the record kind of a sync route and whether it is a batch.
func syncRoute(r *http.Request) (kind string, batch bool) {
	if r.Method != http.MethodPut {
		return "", false
	}
	p := strings.TrimPrefix(r.URL.Path, "/api-externalApi")
	switch p {
	case "/v1/integrations/sync/engagements":
		return "engagement", false
	case "/v1/integrations/sync/batch/engagements":
		return "engagement", true
	case "/v1/integrations/sync/opportunities":
		return "opportunity", false
	case "/v1/integrations/sync/batch/opportunities":
		return "opportunity", true
	}
	return "", false
}
