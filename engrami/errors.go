package engrami

// The REST error and retry types (Error, Issue, DecodeError, RequestError,
// RetryPolicy, RetryInfo, the status sentinels) are shared with siro
// through one template: see zz_errors.go.
//go:generate go run ../internal/gen/resterrors -vendor engrami
