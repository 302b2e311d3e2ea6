package lead

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
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
