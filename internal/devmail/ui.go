package devmail

import (
	_ "embed"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

//go:embed ui.html
var uiHTML string

var uiTmpl = template.Must(template.New("ui").Parse(uiHTML))

// uiLimit is how many messages the index page lists.
const uiLimit = 500

const (
	pageCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	// A caught message's HTML runs sandboxed in its own origin: no
	// scripts, no forms, no plugins; links open outside (popups), images
	// load so tracking pixels behave as in a real mail client.
	mailCSP = "default-src 'none'; img-src * data: cid:; style-src 'unsafe-inline' *; font-src * data:; " +
		"form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)

type indexView struct {
	Total, Shown int
	Items        []Message
}

type headerLine struct{ Name, Value string }

// segment is a run of plain text or a link in the text view.
type segment struct {
	Text string
	Link bool
}

type messageView struct {
	Message
	Tab     string
	Headers []headerLine
	Text    []segment
	RawText string
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	msgs, total := s.store.recent(uiLimit)
	render(w, "index", indexView{Total: total, Shown: len(msgs), Items: msgs})
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	m, e, err := s.store.load(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	msg := e.message(&m)
	v := messageView{Message: msg, Tab: r.URL.Query().Get("tab"), RawText: string(msg.Raw)}
	switch v.Tab {
	case "html", "text", "raw", "headers":
	default:
		v.Tab = "text"
		if msg.HTML != "" {
			v.Tab = "html"
		}
	}
	for name, values := range msg.Header {
		for _, val := range values {
			v.Headers = append(v.Headers, headerLine{name, val})
		}
	}
	slices.SortStableFunc(v.Headers, func(a, b headerLine) int { return strings.Compare(a.Name, b.Name) })
	v.Text = linkify(msg.Text)
	render(w, "message", v)
}

// showHTML serves a message's HTML part on its own, for the sandboxed
// iframe of the message page.
func (s *Server) showHTML(w http.ResponseWriter, r *http.Request) {
	m, e, err := s.store.load(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	msg := e.summary(&m)
	w.Header().Set("Content-Security-Policy", mailCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte(withBaseTarget(msg.HTML)))
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request) {
	if err := s.store.delete(r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) deleteAllForm(w http.ResponseWriter, r *http.Request) {
	s.store.reset()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func render(w http.ResponseWriter, name string, v any) {
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := uiTmpl.ExecuteTemplate(w, name, v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// withBaseTarget makes links in a message open in a new window instead of
// inside the frame.
func withBaseTarget(html string) string {
	const base = `<base target="_blank">`
	lower := strings.ToLower(html)
	if i := strings.Index(lower, "<head"); i >= 0 {
		if j := strings.IndexByte(html[i:], '>'); j >= 0 {
			return html[:i+j+1] + base + html[i+j+1:]
		}
	}
	return base + html
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify splits text into plain runs and links, so confirmation links in
// the text part can be clicked.
func linkify(text string) []segment {
	var out []segment
	last := 0
	for _, loc := range linkRE.FindAllStringIndex(text, -1) {
		loc[1] = loc[0] + len(trimLink(text[loc[0]:loc[1]]))
		if loc[0] > last {
			out = append(out, segment{Text: text[last:loc[0]]})
		}
		out = append(out, segment{Text: text[loc[0]:loc[1]], Link: true})
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	return out
}

// trimLink drops what the text around an address puts after it: sentence
// punctuation, and a closing bracket the address did not open, as in
// "the restore drill (https://example.com/restore-drill)." A bracket the
// address opened stays: https://en.wikipedia.org/wiki/Backup_(disambiguation).
func trimLink(u string) string {
	for len(u) > 0 {
		switch c := u[len(u)-1]; {
		case strings.IndexByte(".,:;!?'*", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		case c == '}' && strings.Count(u, "{") < strings.Count(u, "}"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}
