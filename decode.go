package medmatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
)

// DecodeRecord decodes one JSON object into a new record of kind k. Unknown
// fields are errors, so a misspelt field is never silently dropped; every
// error is EINVALID and names the field at fault ("price.min", "fields")
// where there is one.
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

// DecodeJSON decodes exactly one JSON object from data into v (a pointer to
// a struct or a map), disallowing unknown fields, and describes any problem
// as an EINVALID *Error naming the field.
func DecodeJSON(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Errorf(EINVALID, "", "empty body; want a JSON object")
	}
	if trimmed[0] != '{' {
		var x any
		if json.Unmarshal(trimmed, &x) != nil {
			return Errorf(EINVALID, "", "malformed JSON; want a JSON object")
		}
		return Errorf(EINVALID, "", "want a JSON object, got %s", jsonKind(x))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var raw any
		if json.Unmarshal(data, &raw) == nil {
			if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
				if field, msg := locate(t.Elem(), raw, ""); field != "" {
					return Errorf(EINVALID, field, "%s", msg)
				}
			}
		}
		field, msg := describeJSON(err)
		return Errorf(EINVALID, field, "%s", msg)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(EINVALID, "", "unexpected data after the JSON object")
	}
	return nil
}

// locate walks raw (a decoded JSON value) against the struct type t and
// returns the dotted path of the first value that cannot be decoded into
// it, with a message; "" when it finds none.
func locate(t reflect.Type, raw any, prefix string) (string, string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return strings.TrimSuffix(prefix, "."), fmt.Sprintf("want an object, got %s", jsonKind(raw))
	}
	fields := jsonFields(t)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			return prefix + k, "unknown field"
		}
		if field, msg := check(ft, m[k], prefix+k); field != "" {
			return field, msg
		}
	}
	return "", ""
}

var timeType = reflect.TypeOf(time.Time{})

func check(t reflect.Type, v any, path string) (string, string) {
	if v == nil {
		return "", ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	want := func(what string) (string, string) {
		return path, fmt.Sprintf("want %s, got %s", what, jsonKind(v))
	}
	switch {
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			return want("a time like 2026-01-02T15:04:05Z")
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return path, fmt.Sprintf("want a time like 2026-01-02T15:04:05Z, got %q", s)
		}
	case t.Kind() == reflect.String:
		if _, ok := v.(string); !ok {
			return want("a string")
		}
	case t.Kind() == reflect.Bool:
		if _, ok := v.(bool); !ok {
			return want("true or false")
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		f, ok := v.(float64)
		if !ok {
			return want("a number")
		}
		if f != math.Trunc(f) {
			return path, fmt.Sprintf("want a whole number, got %v", f)
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if _, ok := v.(float64); !ok {
			return want("a number")
		}
	case t.Kind() == reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			return want("an array")
		}
		for i, x := range a {
			if field, msg := check(t.Elem(), x, path); field != "" {
				return field, fmt.Sprintf("item %d: %s", i+1, msg)
			}
		}
	case t.Kind() == reflect.Struct:
		return locate(t, v, path+".")
	}
	return "", ""
}

// jsonFields maps the JSON names of t's fields (embedded structs flattened)
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

func describeJSON(err error) (string, string) {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		for _, p := range []string{"Meta."} {
			field = strings.TrimPrefix(field, p)
		}
		return field, fmt.Sprintf("want %s, got JSON %s", goKind(te.Type), te.Value)
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

// goKind names a Go type the way a JSON user thinks of it.
func goKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "a time like 2026-01-02T15:04:05Z"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "an array"
	}
	return "an object"
}
