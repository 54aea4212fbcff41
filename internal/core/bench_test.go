package core

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

type benchThing struct {
	ExternalID string `json:"externalId"`
	Title      string `json:"title"`
	Count      int    `json:"count"`
	Active     bool   `json:"active"`
}

// BenchmarkDo compares one PUT with a small JSON body and JSON reply through
// the core against the same call written with plain net/http and
// encoding/json.
func BenchmarkDo(b *testing.B) {
	reply := []byte(`{"externalId":"appt-1","title":"Kitchen remodel","count":3,"active":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in benchThing
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	}))
	defer srv.Close()
	in := benchThing{ExternalID: "appt-1", Title: "Kitchen remodel", Count: 3, Active: true}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()
	ctx := context.Background()

	b.Run("core", func(b *testing.B) {
		c, err := New(Config{Provider: "bench", BaseURL: srv.URL, Auth: Bearer("tok"), HTTPClient: hc})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var out benchThing
			if _, err := c.Do(ctx, &Request{Operation: "Things.Put", Method: http.MethodPut, Route: "/v1/things/{id}", PathParams: []string{"appt-1"}, Body: &in}, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			payload, err := json.Marshal(&in)
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/v1/things/appt-1", bytes.NewReader(payload))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", UserAgent)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out benchThing
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err, resp.StatusCode)
			}
		}
	})
}
