package siro

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"reflect"

	"github.com/callcrm/callcrm-go/internal/core"
	"github.com/callcrm/callcrm-go/webhook"
)

// Cursor is a pagination cursor: Page.Cursor gives it, the Cursor field of
// every list's params takes it back. Siro sends it as a string, a number
// (utterances) or null; the empty Cursor means there is no next page (in
// params: start at the first page).
type Cursor string

// UnmarshalJSON accepts a string, a number or null.
func (c *Cursor) UnmarshalJSON(b []byte) error {
	var id webhook.ID
	if err := id.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = Cursor(id)
	return nil
}

// Page is one page of a list with the cursor of the next one.
type Page[T any] struct {
	// Data is the page's items.
	Data []T `json:"data"`
	// Cursor fetches the next page; empty on the last one.
	Cursor Cursor `json:"cursor"`
	// PageSize, Limit, Total and HasNextPage are set by the operations
	// that return Siro's standard envelope; Siro declares the three
	// counts as JSON numbers.
	PageSize    *float64 `json:"pageSize,omitempty"`
	Limit       *float64 `json:"limit,omitempty"`
	Total       *float64 `json:"total,omitempty"`
	HasNextPage *bool    `json:"hasNextPage,omitempty"`
}

// dataEnvelope is {data: T}.
type dataEnvelope[T any] struct {
	Data T `json:"data"`
}

// do runs one call on a host and decodes into out. When out is set, an
// empty or null body is a DecodeError (core.ErrEmptyBody).
func do(ctx context.Context, cl *core.Client, op, method, route string, params []string, query, body, out any, secrets ...string) error {
	_, err := cl.Do(ctx, &core.Request{Operation: op, Method: method, Route: route, PathParams: params, Query: query, Body: body,
		RequireResult: out != nil, Secrets: secrets}, out)
	return publicError(err)
}

// getData decodes a {data: T} answer; a missing or null data is a
// DecodeError, never a nil result with a nil error.
func getData[T any](ctx context.Context, cl *core.Client, op, method, route string, params []string, query, body any) (T, error) {
	var env dataEnvelope[T]
	if err := do(ctx, cl, op, method, route, params, query, body, &env); err != nil {
		var zero T
		return zero, err
	}
	if isNilResult(env.Data) {
		var zero T
		return zero, emptyResult(op, method, route)
	}
	return env.Data, nil
}

// getUntyped decodes a {data: ...} answer Siro does not type: data is
// returned raw, and may be null (only an empty body is an error).
func getUntyped(ctx context.Context, cl *core.Client, op, method, route string, body any) (json.RawMessage, error) {
	var env dataEnvelope[json.RawMessage]
	if err := do(ctx, cl, op, method, route, nil, nil, body, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// isNilResult reports a nil pointer, slice or map, or a null raw message.
func isNilResult(v any) bool {
	if raw, ok := v.(json.RawMessage); ok {
		return len(raw) == 0 || string(raw) == "null"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

func emptyResult(op, method, route string) error {
	return &DecodeError{Provider: "siro", Operation: op, Method: method, Route: route, StatusCode: http.StatusOK, Err: ErrEmptyBody}
}

// getBare decodes a bare object, array or boolean answer; an empty or null
// body is a DecodeError.
func getBare[T any](ctx context.Context, cl *core.Client, op, method, route string, params []string, query, body any, secrets ...string) (T, error) {
	var v T
	if err := do(ctx, cl, op, method, route, params, query, body, &v, secrets...); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// getPage decodes a {data: [...], cursor} answer.
func getPage[T any](ctx context.Context, cl *core.Client, op, route string, params []string, query any) (*Page[T], error) {
	var p Page[T]
	if err := do(ctx, cl, op, http.MethodGet, route, params, query, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// all iterates every page: list fetches one with a copy of the caller's
// params p (nil: zero params; p is never modified) whose cursor field,
// which cursor returns, is set to the next page's. No request is made
// until the caller ranges.
func all[P, T any](ctx context.Context, p *P, cursor func(*P) *Cursor, list func(context.Context, *P) (*Page[T], error)) iter.Seq2[T, error] {
	var q P
	if p != nil {
		q = *p
	}
	return core.Paginate(ctx, string(*cursor(&q)), func(ctx context.Context, next string) (core.Page[T], error) {
		page := q
		*cursor(&page) = Cursor(next)
		got, err := list(ctx, &page)
		if err != nil {
			return core.Page[T]{}, err
		}
		return core.Page[T]{Items: got.Data, Next: string(got.Cursor)}, nil
	})
}

// errorIn200 checks the body of a 2xx answer that may carry an error
// inside ({error, details}), as the CRM-link calls do.
func errorIn200(op, method, route string, raw json.RawMessage) error {
	var e struct {
		Error   *string         `json:"error"`
		Details json.RawMessage `json:"details"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error == nil {
		return nil
	}
	return &Error{Provider: "siro", Operation: op, Method: method, Route: route, StatusCode: http.StatusOK,
		Code: "error_in_200", Message: *e.Error, Details: e.Details, Body: append([]byte(nil), raw...)}
}

// Ptr returns a pointer to v, for the optional fields of params:
// Amount: siro.Ptr(45000.0), IsActive: siro.Ptr(false).
func Ptr[T any](v T) *T { return &v }
