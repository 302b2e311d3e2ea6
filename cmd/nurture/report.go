package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/nurture/nurture/internal/campaign"
)

// writeCheck writes what campaigns check found under dir: each problem as
// path:line: message, then a summary line. It returns an
// *campaign.InvalidError when set is nil, that is when there are errors.
func writeCheck(w io.Writer, dir string, set *campaign.Set, ps []campaign.Problem) error {
	for _, p := range ps {
		fmt.Fprintln(w, p)
	}
	errs, warns := campaign.Count(ps)
	if set == nil {
		fmt.Fprintf(w, "%s: %s, %s\n", dir, count(errs, "error", "errors"), count(warns, "warning", "warnings"))
		return &campaign.InvalidError{Problems: ps}
	}
	steps := 0
	for _, q := range set.Sequences {
		steps += len(q.Steps)
	}
	forms := ""
	if n := len(set.Forms); n > 0 {
		forms = ", " + count(n, "form", "forms")
	}
	if set.Scoring != nil {
		forms += ", " + campaign.ScoringFile
	}
	fmt.Fprintf(w, "%s: ok, %s with %s%s, %s\n", dir, count(len(set.Sequences), "sequence", "sequences"),
		count(steps, "step", "steps"), forms, count(warns, "warning", "warnings"))
	return nil
}

// count writes n with the noun that fits it: "1 step", "2 steps".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// part chooses what a preview shows.
type part int

const (
	partAll  part = iota // the subject, the preheader, the text part and the HTML part
	partHTML             // only the HTML, to open in a browser
	partText             // only the plain text
	partRaw              // the composed message as it goes to SMTP: headers and MIME
)

// writePreview writes a mail for a person to look at: r is the rendered
// step and raw the message composed from it.
func writePreview(w io.Writer, r campaign.Rendered, raw []byte, p part) error {
	var b strings.Builder
	switch p {
	case partRaw:
		_, err := w.Write(raw)
		return err
	case partHTML:
		b.WriteString(r.HTML)
	case partText:
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
