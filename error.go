package medmatch

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status and one CLI exit code in the
// packages that talk to users; everything else is EINTERNAL.
const (
	EINVALID       = "invalid"       // malformed input: bad parameter, bad JSON, bad record
	EUNAUTHORIZED  = "unauthorized"  // no or unknown credentials
	EFORBIDDEN     = "forbidden"     // credentials known, action not allowed
	ENOTFOUND      = "not_found"     // no such record (or not visible to the viewer)
	ECONFLICT      = "conflict"      // duplicate id or external id, stale version, data dir busy
	ETOOLARGE      = "too_large"     // request body or import over the limit
	EUNSUPPORTED   = "unsupported"   // unsupported media type or format
	EUNPROCESSABLE = "unprocessable" // well-formed but cannot be applied (e.g. import rows rejected)
	EUNAVAILABLE   = "unavailable"   // not ready yet (index catching up, store closed)
	ETRIMMED       = "trimmed"       // change-feed position no longer held; rebuild from the Store
	EINTERNAL      = "internal"      // a bug or an I/O failure; details are logged, not shown
	EMETHOD        = "method_not_allowed"
)

// Error is the error type of the domain: a code, a message safe to show to
// clients, and, for input errors, the field (or "file:line: field") at fault.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Field   string       `json:"field,omitempty"`
	Details []FieldError `json:"details,omitempty"`
}

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code, field and formatted message.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the *Error's message,
// or "Internal error." for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// validator collects field errors.
type validator struct {
	errs []FieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	first := v.errs[0]
	msg := first.Message
	if len(v.errs) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(v.errs)-1)
	}
	return &Error{Code: EINVALID, Field: first.Field, Message: msg, Details: v.errs}
}
