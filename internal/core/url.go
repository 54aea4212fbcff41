package core

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-querystring/query"
)

func (c *Client) buildURL(req *Request) (string, error) {
	// One allocation without a query: base and expanded route in one builder.
	var b strings.Builder
	b.Grow(len(c.base) + len(req.Route) + 32)
	b.WriteString(c.base)
	if err := expandRoute(&b, req.Route, req.PathParams); err != nil {
		return "", fmt.Errorf("%s: %s: %w", c.provider, opOrRoute(req), err)
	}
	q, err := EncodeQuery(req.Query)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %w: query: %v", c.provider, opOrRoute(req), ErrInvalidRequest, err)
	}
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String(), nil
}

// ExpandRoute replaces each {placeholder} in route with the next parameter,
// escaped with url.PathEscape. Empty, "." and ".." parameters are refused
// (they would change which resource the path names), as is a count that
// does not match the placeholders.
func ExpandRoute(route string, params []string) (string, error) {
	if strings.IndexByte(route, '{') < 0 && strings.HasPrefix(route, "/") && len(params) == 0 {
		return route, nil
	}
	var b strings.Builder
	b.Grow(len(route) + 32)
	if err := expandRoute(&b, route, params); err != nil {
		return "", err
	}
	return b.String(), nil
}

// expandRoute is ExpandRoute writing into b.
func expandRoute(b *strings.Builder, route string, params []string) error {
	if !strings.HasPrefix(route, "/") {
		return fmt.Errorf("%w: route %q must start with /", ErrInvalidRequest, route)
	}
	if strings.IndexByte(route, '{') < 0 {
		if len(params) != 0 {
			return fmt.Errorf("%w: route %s takes no parameters, got %d", ErrInvalidRequest, route, len(params))
		}
		b.WriteString(route)
		return nil
	}
	i := 0
	for {
		open := strings.IndexByte(route, '{')
		if open < 0 {
			b.WriteString(route)
			break
		}
		end := strings.IndexByte(route[open:], '}')
		if end < 0 {
			return fmt.Errorf("%w: route has an unclosed placeholder", ErrInvalidRequest)
		}
		name := route[open+1 : open+end]
		if i >= len(params) {
			return fmt.Errorf("%w: missing path parameter %s", ErrInvalidRequest, name)
		}
		p := params[i]
		switch p {
		case "":
			return fmt.Errorf("%w: path parameter %s is empty", ErrInvalidRequest, name)
		case ".", "..":
			return fmt.Errorf("%w: path parameter %s is %q", ErrInvalidRequest, name, p)
		}
		b.WriteString(route[:open])
		b.WriteString(url.PathEscape(p))
		route = route[open+end+1:]
		i++
	}
	if i != len(params) {
		return fmt.Errorf("%w: %d path parameters for %d placeholders", ErrInvalidRequest, len(params), i)
	}
	return nil
}

// QueryValues returns the parameters of a go-querystring tagged struct or
// url.Values (itself, not a copy); nil for nil.
func QueryValues(q any) (url.Values, error) {
	switch t := q.(type) {
	case nil:
		return nil, nil
	case url.Values:
		return t, nil
	default:
		return query.Values(q)
	}
}

// EncodeQuery encodes a go-querystring tagged struct (or url.Values) sorted
// by key. Keys keep a literal ':' (Siro's "updatedAt:gte" filters name
// their parameters that way); everything else is query-escaped.
func EncodeQuery(q any) (string, error) {
	v, err := QueryValues(q)
	if err != nil {
		return "", err
	}
	if len(v) == 0 {
		return "", nil
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := strings.ReplaceAll(url.QueryEscape(k), "%3A", ":")
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(val))
		}
	}
	return b.String(), nil
}
