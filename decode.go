package medmatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeRecord decodes one JSON object into a new record of kind k. Unknown
// fields are errors, so a misspelt field is never silently dropped; every
// error is EINVALID and names the field at fault where there is one.
func DecodeRecord(k Kind, data []byte) (Record, error) {
	r := NewRecord(k)
	if r == nil {
		return nil, Errorf(EINVALID, "type", "unknown record type %q", k)
	}
	if err := DecodeJSON(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeJSON decodes exactly one JSON value from data into v, disallowing
// unknown fields, and describes any problem as an EINVALID *Error.
func DecodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if err == io.EOF {
			return Errorf(EINVALID, "", "empty body; want a JSON object")
		}
		field, msg := describeJSON(err)
		return Errorf(EINVALID, field, "%s", msg)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(EINVALID, "", "unexpected data after the JSON object")
	}
	return nil
}

func describeJSON(err error) (string, string) {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return te.Field, fmt.Sprintf("want %s, got JSON %s", jsonType(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return "", fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "malformed JSON: unexpected end of input"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return strings.Trim(f, `"`), "unknown field"
	}
	return "", strings.TrimPrefix(msg, "json: ")
}

// jsonType names a Go type the way a JSON user thinks of it.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "*medmatch."), strings.HasPrefix(goType, "medmatch.Price"), strings.HasPrefix(goType, "medmatch.IP"):
		return "an object"
	case goType == "time.Time":
		return "a time like 2026-01-02T15:04:05Z"
	}
	return "a string"
}
