package lead

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Attributes are the free-form facts a signup form sent about the lead, such
// as company, job_title or timezone.
type Attributes map[string]any

// String returns one attribute as text.
func (a Attributes) String(name string) string {
	switch v := a[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// Number reads an attribute's value as a number, forgivingly, since signup
// forms send numbers as text: "250" and 250 are both 250, true is 1, and
// anything that is not a number, a missing attribute included, is 0. It is
// number() in sequence conditions and in scoring.yaml.
func Number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f
		}
	}
	return 0
}

// Value stores the attributes as JSONB. It is text, not []byte: a driver
// that sends []byte in binary format would otherwise send raw JSON where
// Postgres expects binary JSONB.
func (a Attributes) Value() (driver.Value, error) {
	if a == nil {
		return "{}", nil
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// Scan reads JSONB into the attributes.
func (a *Attributes) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*a = Attributes{}
		return nil
	default:
		return errors.New("lead: attributes: not JSON")
	}
	m := Attributes{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("lead: attributes: %w", err)
	}
	*a = m
	return nil
}
