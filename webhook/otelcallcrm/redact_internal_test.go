package otelcallcrm

import "testing"

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"no url here":   "no url here",
		"odd :// alone": "odd :// alone",
		"://x":          "://x",
		`Get "https://api.siro.ai/v1/core/recordings/rec_1?cursor=abc": EOF`:                    `Get "https://api.siro.ai": EOF`,
		"redirect refused: https://a.example/v1/x/42 redirected to http://b.example:8080/p?q=1": "redirect refused: https://a.example redirected to http://b.example:8080",
		"dial http://user:pass@h.example:1/a":                                                   "dial http://h.example:1",
		"at end https://h.example":                                                              "at end https://h.example",
		`Post "http://[::1]:8080/v1/items/9?x=y": refused`:                                      `Post "http://[::1]:8080": refused`,
		"(see https://h.example/a/b) and ftp://f/x y":                                           "(see https://h.example) and ftp://f y",
		"1http://h/x": "1http://h",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}
