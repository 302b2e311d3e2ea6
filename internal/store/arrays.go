package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// textArray is a text[] parameter of a batch, written as Postgres's array
// literal into one string of its exact size. pq.Array builds the literal
// by appending, growing its buffer several times, and copies it into a
// string: for the user agents of a batch of clicks, the better part of
// what a click allocates. (The literal stays a string: the store's
// connections send []byte parameters as binary.) Every element is quoted,
// so that no text reads as NULL or splits; inside quotes only a double
// quote and a backslash are escaped.
type textArray []string

func (a textArray) Value() (driver.Value, error) {
	n := 1 + len(a)*3 // braces, quotes, commas
	for _, s := range a {
		n += len(s) + strings.Count(s, `"`) + strings.Count(s, `\`)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for {
			j := strings.IndexAny(s, `"\`)
			if j < 0 {
				break
			}
			b.WriteString(s[:j])
			b.WriteByte('\\')
			b.WriteByte(s[j])
			s = s[j+1:]
		}
		b.WriteString(s)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// int64Array is an int[] or bigint[] parameter written as textArray is,
// into one buffer sized for the numbers.
type int64Array []int64

func (a int64Array) Value() (driver.Value, error) {
	b := make([]byte, 0, 2+len(a)*(len("-9223372036854775808")+1))
	b = append(b, '{')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(append(b, '}')), nil
}
