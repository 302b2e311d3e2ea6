package campaign

import (
	"errors"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"path"

	"github.com/nurture/nurture/internal/lead"
)

// FormView is what a form's page layout, templates/pages/forms/NAME.html,
// renders: the form, the values typed so far and what is wrong with them.
type FormView struct {
	Form        *Form
	Action      string            // where the form posts
	Values      map[string]string // posted values, by field name
	Hidden      []FormValue       // posted fields without an input of their own on the page
	Errors      lead.FieldErrors
	Problems    []FormValue // errors on fields the person cannot see, with the message as Value
	Redirect    string
	RedirectSig string // vouches for Redirect when the page posts it back
	PrivacyURL  string
}

// FormValue is a field's name with a value, or with what is wrong with it.
type FormValue struct{ Name, Value string }

// Page writes the form's page for v, in the form's layout.
func (f *Form) Page(w io.Writer, v FormView) error {
	v.Form = f
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	return f.page.ExecuteTemplate(w, "base", v)
}

// pageLayouts loads each form layout once per Set: pages/base.html with
// pages/forms/NAME.html, tried out on a sample view so that a mistake shows
// at load rather than on a visitor's screen.
type pageLayouts struct {
	fsys  fs.FS
	cache map[string]*htmltemplate.Template
	bad   map[string]string
	ps    *problems
}

func (ls *pageLayouts) get(name string) (*htmltemplate.Template, string) {
	if t, ok := ls.cache[name]; ok {
		return t, ""
	}
	if why, ok := ls.bad[name]; ok {
		return nil, why
	}
	t, why := ls.load(name)
	if t == nil {
		ls.bad[name] = why
		return nil, why
	}
	ls.cache[name] = t
	return t, ""
}

func (ls *pageLayouts) load(name string) (*htmltemplate.Template, string) {
	if !layoutNameRE.MatchString(name) {
		return nil, "layout " + quote(name) + ": a layout name has lower-case letters, digits, - and _ only"
	}
	if ls.fsys == nil {
		return nil, "no templates folder to take layouts from"
	}
	p := path.Join("pages/forms", name+".html")
	if _, err := fs.Stat(ls.fsys, p); err != nil {
		return nil, "layout " + quote(name) + " does not exist: the templates have no " + p
	}
	broken := "layout " + quote(name) + " has errors (see templates/" + p + ")"
	t, err := htmltemplate.ParseFS(ls.fsys, "pages/base.html", p)
	if err == nil {
		sample := &Form{Slug: "sample", Title: "Sample", Source: "sample", ConsentText: "Yes.", ConsentVersion: "v1", Layout: name, Button: "Subscribe",
			Fields: []FormField{{Name: "email", Label: "Email", Required: true, Type: "email"}, {Name: "attributes.company", Label: "Company", Type: "text"}}}
		err = t.ExecuteTemplate(io.Discard, "base", FormView{
			Form: sample, Action: "/subscribe/sample", Values: map[string]string{"email": "x"},
			Hidden: []FormValue{{"a", "b"}}, Errors: lead.FieldErrors{"email": "is required", "source": "is wrong"},
			Problems: []FormValue{{"source", "is wrong"}}, Redirect: "https://example.com/", RedirectSig: "sig", PrivacyURL: "https://example.com/privacy",
		})
	}
	if err != nil {
		var he *htmltemplate.Error
		if errors.As(err, &he) && he.Line > 0 {
			ls.ps.errorf("templates/"+p, he.Line, "%s", he.Description)
		} else {
			line, msg := templateError(err, path.Base(p))
			ls.ps.errorf("templates/"+p, line, "%s", msg)
		}
		return nil, broken
	}
	return t, ""
}

func quote(s string) string { return `"` + s + `"` }
