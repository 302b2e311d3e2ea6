package campaign

import (
	"io"

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

// sampleFormView is the view a page layout is tried out on when it loads.
func sampleFormView(layout string) any {
	sample := &Form{Slug: "sample", Title: "Sample", Source: "sample", ConsentText: "Yes.", ConsentVersion: "v1", Layout: layout, Button: "Subscribe",
		Fields: []FormField{{Name: "email", Label: "Email", Required: true, Type: "email"}, {Name: "attributes.company", Label: "Company", Type: "text"}}}
	return FormView{
		Form: sample, Action: "/subscribe/sample", Values: map[string]string{"email": "x"},
		Hidden: []FormValue{{"a", "b"}}, Errors: lead.FieldErrors{"email": "is required", "source": "is wrong"},
		Problems: []FormValue{{"source", "is wrong"}}, Redirect: "https://example.com/", RedirectSig: "sig", PrivacyURL: "https://example.com/privacy",
	}
}
