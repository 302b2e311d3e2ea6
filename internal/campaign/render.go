package campaign

import (
	"fmt"

	"github.com/nurture/nurture/internal/campaign/render"
)

// Data is what one mail is rendered with: render.Data, named here for the
// sequence engine, which renders the steps it gets from this package.
type Data = render.Data

// Rendered is a mail ready to send: render.Rendered, named here beside
// Render.
type Rendered = render.Rendered

// Render fills a step in for one lead and wraps it in its layout. The
// Markdown was rendered when the step was loaded; here only templates run.
func Render(st *Step, d Data) (Rendered, error) {
	r, err := st.mail.Render(d)
	if err != nil {
		return r, fmt.Errorf("campaign: render %s: %w", st.Key(), err)
	}
	return r, nil
}
