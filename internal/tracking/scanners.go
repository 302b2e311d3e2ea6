package tracking

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

//go:embed scanners.txt
var scannersFile string

// DefaultScanners are the scanner networks that ship with Nurture
// (scanners.txt beside this file, which says where each is published).
var DefaultScanners = sync.OnceValue(func() *Ranges {
	r, err := ParseScanners(strings.NewReader(scannersFile))
	if err != nil {
		panic(err) // a test parses the shipped file
	}
	return r
})

// ParseScanners reads a file of scanner networks in the format of
// scanners.txt: per line a network (or one address), a space and the
// service's name; # starts a comment line.
func ParseScanners(r io.Reader) (*Ranges, error) {
	sc := bufio.NewScanner(r)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		network, name, _ := strings.Cut(text, " ")
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("tracking: scanner ranges: line %d: want a network, a space and the service's name, but got %q", line, text)
		}
		p, err := parsePrefix(network)
		if err != nil {
			return nil, fmt.Errorf("tracking: scanner ranges: line %d: %q is not an IP network: %v", line, network, err)
		}
		entries = append(entries, Entry{Prefix: p, Label: name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tracking: scanner ranges: line %d: %w", line+1, err)
	}
	return NewRanges(entries), nil
}
