package render

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/problem"
)

// Reporter collects what is wrong in a file, at a line of it. Package
// campaign's list of problems implements it.
type Reporter interface {
	Errorf(path string, line int, format string, args ...any)
}

// Layout is a pair of templates, email/layouts/NAME.html and .txt, that
// wraps a mail's content.
type Layout struct {
	Name    string
	Version string // changes whenever one of the two files does
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

var layoutNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// cache loads each named thing once and remembers why one cannot be used,
// so that the problems inside its files are reported once, at the files.
type cache[T any] struct {
	load func(name string) (T, string)
	good map[string]T
	bad  map[string]string // name → why it cannot be used
}

func newCache[T any](load func(string) (T, string)) *cache[T] {
	return &cache[T]{load: load, good: map[string]T{}, bad: map[string]string{}}
}

// get returns what name names, or why it is unavailable.
func (c *cache[T]) get(name string) (T, string) {
	if v, ok := c.good[name]; ok {
		return v, ""
	}
	if why, ok := c.bad[name]; ok {
		var zero T
		return zero, why
	}
	v, why := c.load(name)
	if why != "" {
		c.bad[name] = why
		return v, why
	}
	c.good[name] = v
	return v, ""
}

// Layouts loads each mail layout once per load of the campaign files,
// tried out on the sample so that a mistake shows at load rather than at
// send time.
type Layouts struct {
	fsys   fs.FS
	sample Data
	report Reporter
	cache  *cache[*Layout]
}

// NewLayouts takes the layouts from email/layouts/ in fsys and reports
// the problems in their files to r.
func NewLayouts(fsys fs.FS, sample Data, r Reporter) *Layouts {
	ls := &Layouts{fsys: fsys, sample: sample, report: r}
	ls.cache = newCache(ls.load)
	return ls
}

// Get returns a layout, or why it cannot be used.
func (ls *Layouts) Get(name string) (*Layout, string) { return ls.cache.get(name) }

func (ls *Layouts) load(name string) (*Layout, string) {
	if !layoutNameRE.MatchString(name) {
		return nil, fmt.Sprintf("layout %q: a layout name has lower-case letters, digits, - and _ only", name)
	}
	if ls.fsys == nil {
		return nil, "no templates folder to take layouts from"
	}
	base := path.Join("email/layouts", name)
	htmlSrc, why := ls.read(name, base+".html")
	if why != "" {
		return nil, why
	}
	textSrc, why := ls.read(name, base+".txt")
	if why != "" {
		return nil, why
	}
	sum := sha256.Sum256([]byte(htmlSrc + "\x00" + textSrc))
	l := &Layout{Name: name, Version: hex.EncodeToString(sum[:8])}
	broken := fmt.Sprintf("layout %q has errors (see templates/%s)", name, base)
	var err error
	if l.html, err = htmltemplate.New(name + ".html").Parse(htmlSrc); err != nil {
		ReportTemplateError(ls.report, "templates/"+base+".html", err)
		return nil, broken
	}
	if l.text, err = texttemplate.New(name + ".txt").Parse(textSrc); err != nil {
		ReportTemplateError(ls.report, "templates/"+base+".txt", err)
		return nil, broken
	}
	s := ls.sample
	lv := layoutView{Content: htmltemplate.HTML("<p>Hello</p>"), Subject: "Subject", Preheader: "Preheader",
		Footer: s.Footer, PrivacyURL: s.PrivacyURL, TrackingURL: s.TrackingURL, UnsubscribeURL: s.UnsubscribeURL, BaseURL: s.BaseURL, Lead: s.Lead}
	if err := l.html.Execute(io.Discard, lv); err != nil {
		ReportTemplateError(ls.report, "templates/"+base+".html", err)
		return nil, broken
	}
	lv.Content = "Hello"
	if err := l.text.Execute(io.Discard, lv); err != nil {
		ReportTemplateError(ls.report, "templates/"+base+".txt", err)
		return nil, broken
	}
	return l, ""
}

// read returns the file p of layout name, or why it cannot be read.
func (ls *Layouts) read(name, p string) (string, string) {
	b, err := fs.ReadFile(ls.fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Sprintf("layout %q does not exist: the templates have no %s", name, p)
	}
	if err != nil {
		return "", fmt.Sprintf("layout %q: %v", name, err)
	}
	return string(b), ""
}

// PageLayouts loads each signup form's page layout once per load:
// pages/base.html with pages/forms/NAME.html, tried out on the view
// sample gives for the layout, the view a form's page gets, so that a
// mistake shows at load rather than on a visitor's screen.
type PageLayouts struct {
	fsys   fs.FS
	sample func(layout string) any
	report Reporter
	cache  *cache[*htmltemplate.Template]
}

// NewPageLayouts takes the page layouts from fsys and reports the
// problems in their files to r.
func NewPageLayouts(fsys fs.FS, sample func(layout string) any, r Reporter) *PageLayouts {
	ls := &PageLayouts{fsys: fsys, sample: sample, report: r}
	ls.cache = newCache(ls.load)
	return ls
}

// Get returns a page layout, whose template "base" writes the page, or
// why it cannot be used.
func (ls *PageLayouts) Get(name string) (*htmltemplate.Template, string) { return ls.cache.get(name) }

func (ls *PageLayouts) load(name string) (*htmltemplate.Template, string) {
	if !layoutNameRE.MatchString(name) {
		return nil, fmt.Sprintf("layout \"%s\": a layout name has lower-case letters, digits, - and _ only", name)
	}
	if ls.fsys == nil {
		return nil, "no templates folder to take layouts from"
	}
	p := path.Join("pages/forms", name+".html")
	if _, err := fs.Stat(ls.fsys, p); err != nil {
		return nil, fmt.Sprintf("layout \"%s\" does not exist: the templates have no %s", name, p)
	}
	t, err := htmltemplate.ParseFS(ls.fsys, "pages/base.html", p)
	if err == nil {
		err = t.ExecuteTemplate(io.Discard, "base", ls.sample(name))
	}
	if err != nil {
		ReportTemplateError(ls.report, "templates/"+p, err)
		return nil, fmt.Sprintf("layout \"%s\" has errors (see templates/%s)", name, p)
	}
	return t, ""
}

// ReportTemplateError reports an error of a template file at path p, at
// its line, in words for the person who edits the file.
func ReportTemplateError(r Reporter, p string, err error) {
	var he *htmltemplate.Error
	if errors.As(err, &he) && he.Line > 0 {
		r.Errorf(p, he.Line, "%s", he.Description)
		return
	}
	line, msg := templateError(err, path.Base(p))
	r.Errorf(p, line, "%s", msg)
}

var (
	templateLineRE = regexp.MustCompile(`^template: [^:]+:(\d+):(?:\d+:)? ?(.*)$`)
	executingRE    = regexp.MustCompile(`^executing "[^"]*" at <(.*?)>: (.*)$`)
	fieldRE        = regexp.MustCompile(`can't evaluate field (\w+) in type (\S+)$`)
)

// templateError pulls the line and a readable message out of a
// text/template error, suggesting the field meant when one is misspelt.
func templateError(err error, name string) (int, string) {
	msg := err.Error()
	m := templateLineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "template: "+name+": ")
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	if e := executingRE.FindStringSubmatch(msg); e != nil {
		msg = fmt.Sprintf("{{ %s }}: %s", e[1], e[2])
	}
	if f := fieldRE.FindStringSubmatch(msg); f != nil {
		if s := problem.Suggest(f[1], templateFields[f[2]]); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else if f[2] == "*lead.Lead" {
			msg += `; for a signup form's field write {{ .Lead.Attr "` + strings.ToLower(f[1]) + `" }}`
		}
	}
	if msg == "unexpected EOF" {
		msg = "a placeholder is not closed: each {{ if }}, {{ range }} and {{ with }} needs an {{ end }}"
	}
	return line, msg
}

// templateFields are the names a template may use after a dot, by the type
// text/template names in its errors.
var templateFields = map[string][]string{
	"*lead.Lead":  methodsAndFields(reflect.TypeFor[*lead.Lead]()),
	"render.view": {"Lead", "BaseURL", "UnsubscribeURL"},
}

func methodsAndFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumMethod() {
		names = append(names, t.Method(i).Name)
	}
	for i := range t.Elem().NumField() {
		names = append(names, t.Elem().Field(i).Name)
	}
	return names
}
