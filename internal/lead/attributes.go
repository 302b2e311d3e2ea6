package lead

import (
	"database/sql/driver"
	"encoding/json"
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

// Value stores the attributes as JSONB.
func (a Attributes) Value() (driver.Value, error) {
	if a == nil {
		a = Attributes{}
	}
	return jsonValue(a)
}

// Scan reads JSONB into the attributes; NULL reads as none.
func (a *Attributes) Scan(src any) error {
	m := Attributes{}
	if src != nil {
		if err := scanJSON(src, &m, "attributes"); err != nil {
			return err
		}
	}
	*a = m
	return nil
}

// SignupData is what one signup said about the person. It is stored with
// the link that signup sent, and confirming that link applies it to the
// lead.
type SignupData struct {
	FirstName  string     `json:"first_name"`
	LastName   string     `json:"last_name"`
	Source     string     `json:"source"`
	Attributes Attributes `json:"attributes"`
	// Tracking is the signup's yes to open and click tracking; confirming
	// the link sets the lead's tracking to it, so a signup that did not
	// ask, or was told no, turns tracking off.
	Tracking bool `json:"tracking,omitempty"`
}

// Data is the part of a signup that becomes the lead's data.
func (s Signup) Data() SignupData {
	return SignupData{FirstName: s.FirstName, LastName: s.LastName, Source: s.Source, Attributes: s.Attributes,
		Tracking: s.Tracking != nil && *s.Tracking}
}

// Value stores the data as JSONB.
func (d SignupData) Value() (driver.Value, error) {
	if d.Attributes == nil {
		d.Attributes = Attributes{}
	}
	return jsonValue(d)
}

// Scan reads JSONB into the data.
func (d *SignupData) Scan(src any) error {
	out := SignupData{}
	if err := scanJSON(src, &out, "signup data"); err != nil {
		return err
	}
	if out.Attributes == nil {
		out.Attributes = Attributes{}
	}
	*d = out
	return nil
}

// jsonValue is v as JSONB for the database. It is text, not []byte: a
// driver that sends []byte in binary format would otherwise send raw JSON
// where Postgres expects binary JSONB.
func jsonValue(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// scanJSON reads a JSONB column into dst; what names it in errors.
func scanJSON(src, dst any, what string) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("lead: %s: %T is not JSON", what, src)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("lead: %s: %w", what, err)
	}
	return nil
}
