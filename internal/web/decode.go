package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nurture/nurture/internal/lead"
)

// notUTF8 is what a field with bytes that are not UTF-8 is told, in the
// words lead.Signup.Normalize uses for the same bytes in a form.
const notUTF8 = "must be valid UTF-8 text"

// decodeJSON reads a request's body, one JSON value, into v. It refuses what
// encoding/json lets through: bytes that are not UTF-8, which it would
// store as U+FFFD, get a lead.FieldErrors naming their field; anything after
// the value (xyz, or a second object) is a bad request, since which of two
// objects was meant is a guess. With strict, unknown fields are refused too.
func decodeJSON(r *http.Request, v any, strict bool) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if !utf8.Valid(body) {
		if field, ok := invalidUTF8Field(body); ok && field != "" {
			return lead.FieldErrors{field: notUTF8}
		}
		// Outside a string (or in a bare string that is no object) the
		// bytes are a syntax or type error, reported below.
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if fe := typeError(err); fe != nil {
			return fe
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest(fmt.Sprintf("invalid JSON: more follows the value that ends at byte %d; send one JSON object", dec.InputOffset()))
	}
	return nil
}

// jsonError says what is wrong with a body encoding/json refused, in the
// client's terms: no Go types, no package names.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var when *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("invalid JSON at byte %d: %s", syntax.Offset, syntax.Error()))
	case errors.Is(err, io.EOF):
		return badRequest("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid JSON: the body ends before its value does")
	case errors.As(err, &typ):
		// typeError took those that name a field: this is the body itself.
		return badRequest("the body must be a JSON object, not " + jsonKind(typ.Value))
	case errors.As(err, &when):
		return badRequest(fmt.Sprintf("%q is not a time: write it as in RFC 3339, such as \"2026-12-01T10:00:00Z\"", when.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest(strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("invalid JSON")
}

// invalidUTF8Field walks a JSON document and returns the field of the first
// string that holds bytes that are not UTF-8: "first_name", or
// "attributes.company" in a nested object. A key that is not UTF-8 is named
// as it reads with U+FFFD. ok is false when the walk meets a syntax error
// first.
func invalidUTF8Field(body []byte) (field string, ok bool) {
	type frame struct {
		object  bool
		key     string // the key whose value is being read, in an object
		wantKey bool
	}
	var stack []frame
	path := func(last string) string {
		var parts []string
		for _, f := range stack {
			if f.object && f.key != "" {
				parts = append(parts, f.key)
			}
		}
		if last != "" {
			parts = append(parts, last)
		}
		return strings.Join(parts, ".")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		raw := body[start:dec.InputOffset()]
		top := len(stack) - 1
		if d, isDelim := tok.(json.Delim); isDelim {
			switch d {
			case '{', '[':
				stack = append(stack, frame{object: d == '{', wantKey: d == '{'})
				continue
			default:
				stack = stack[:top]
				top--
			}
		} else if top >= 0 && stack[top].object && stack[top].wantKey {
			key := tok.(string)
			if !utf8.Valid(raw) {
				return path(strings.ToValidUTF8(key, "\uFFFD")), true
			}
			stack[top].key, stack[top].wantKey = key, false
			continue
		} else if !utf8.Valid(raw) {
			return path(""), true
		}
		// A value ended: the object it is in wants its next key.
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// typeError turns a JSON value of the wrong type, such as
// {"first_name": 5}, into an error on that field.
func typeError(err error) lead.FieldErrors {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return nil
	}
	// Fields of the embedded lead.Signup come as "Signup.first_name".
	field := strings.TrimPrefix(te.Field, "Signup.")
	want := "text"
	switch te.Type.Kind() {
	case reflect.Map, reflect.Struct:
		want = "an object"
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		want = "a number"
	}
	return lead.FieldErrors{field: "must be " + want + ", not " + jsonKind(te.Value)}
}

// jsonKind names what a client sent: bool, number (or "number 1.5"),
// string, array or object.
func jsonKind(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	case v == "string":
		return "text"
	case v == "array":
		return "a list"
	}
	return "an object"
}
