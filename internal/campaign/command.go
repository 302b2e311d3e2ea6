package campaign

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// The functions below are what the `nurture campaigns` commands do; cmd/
// only parses flags, loads the configuration and calls them.

// Check loads the campaign files under dir, writes each problem as
// path:line: message and a summary line to w, and returns the Set, or an
// *InvalidError when there are errors. A vet, when given, checks the
// valid files further, as the server would before they go live.
func Check(w io.Writer, dir string, templates fs.FS, vet ...Vet) (*Set, error) {
	set, ps := Load(dir, templates)
	if set != nil {
		for _, v := range vet {
			ps = append(ps, v(set)...)
		}
		sortProblems(ps)
		if HasErrors(ps) {
			set = nil
		}
	}
	for _, p := range ps {
		fmt.Fprintln(w, p)
	}
	errs, warns := 0, 0
	for _, p := range ps {
		if p.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	if set == nil {
		fmt.Fprintf(w, "%s: %d %s, %d %s\n", dir, errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"))
		return nil, &InvalidError{Problems: ps}
	}
	steps := 0
	for _, q := range set.Sequences {
		steps += len(q.Steps)
	}
	forms := ""
	if n := len(set.Forms); n > 0 {
		forms = fmt.Sprintf(", %d %s", n, plural(n, "form", "forms"))
	}
	fmt.Fprintf(w, "%s: ok, %d %s with %d %s%s, %d %s\n", dir,
		len(set.Sequences), plural(len(set.Sequences), "sequence", "sequences"),
		steps, plural(steps, "step", "steps"), forms, warns, plural(warns, "warning", "warnings"))
	return set, nil
}

// Part chooses what a preview shows.
type Part int

const (
	PartAll  Part = iota // the subject, the preheader, the text part and the HTML part
	PartHTML             // only the HTML, to open in a browser
	PartText             // only the plain text
	PartRaw              // the composed message as it goes to SMTP: headers and MIME
)

// WritePreview writes a mail for a person to look at: r is the rendered
// step and raw the message composed from it.
func WritePreview(w io.Writer, r Rendered, raw []byte, part Part) error {
	var b strings.Builder
	switch part {
	case PartRaw:
		_, err := w.Write(raw)
		return err
	case PartHTML:
		b.WriteString(r.HTML)
	case PartText:
		b.WriteString(r.Text)
		b.WriteString("\n")
	default:
		fmt.Fprintf(&b, "Subject:   %s\n", r.Subject)
		if r.Preheader != "" {
			fmt.Fprintf(&b, "Preheader: %s\n", r.Preheader)
		}
		b.WriteString("\n----- text/plain -----\n")
		b.WriteString(r.Text)
		b.WriteString("\n\n----- text/html -----\n")
		b.WriteString(r.HTML)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
