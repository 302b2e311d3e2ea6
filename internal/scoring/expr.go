package scoring

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/condition"
	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/problem"
)

// Facts are what an expression may ask about a lead.
type Facts struct {
	Lead   *lead.Lead // stage, source, attributes and CreatedAt (the signup)
	Events []string   // the types of the lead's events, duplicates allowed
	Now    time.Time  // when the expression is evaluated
}

// Score is a lead's score in its two parts; the score is their sum.
type Score struct {
	Fit        int
	Engagement int
}

// Total is fit plus engagement.
func (s Score) Total() int { return s.Fit + s.Engagement }

// exprNames are the names of condition.Vars, which is what an expression
// sees: those of a sequence condition about the lead (see the package
// comment).
var exprNames = []string{"score", "fit", "engagement", "temperature", "stage", "source", "attr", "events", "days_since_signup", "number"}

// scoreNames are the variables a fit rule may not use: they depend on fit.
var scoreNames = []string{"score", "fit", "engagement", "temperature"}

// Expr is one compiled expression of the file and where it is.
type Expr struct {
	Src  string
	Line int
	prog *vm.Program
}

// compileExpr checks and compiles the expression in n, a YAML scalar, for
// key (such as "mql" or "fit[2].if"); forbidden names are reported.
func compileExpr(n *yaml.Node, key string, forbidden []string, ps *problems) (*Expr, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		ps.errorf(n.Line, "%s must be a condition, such as number(attr.company_size) >= 50", key)
		return nil, false
	}
	src := n.Value
	first := n.Line
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		first++ // the text starts below the | or >
	}
	fail := func(exprLine int, format string, args ...any) (*Expr, bool) {
		ps.errorf(first+max(exprLine, 1)-1, key+": "+format, args...)
		return nil, false
	}
	tree, err := parser.Parse(src)
	if err != nil {
		l, msg := exprError(err)
		return fail(l, "%s", msg)
	}
	var bad string
	exprast.Walk(&tree.Node, visitor(func(node *exprast.Node) {
		if id, ok := (*node).(*exprast.IdentifierNode); ok && bad == "" && slices.Contains(forbidden, id.Value) {
			bad = id.Value
		}
	}))
	if bad != "" {
		return fail(1, "a fit rule cannot use %s: fit is the sum of the fit rules, so it comes before the score", bad)
	}
	warnNumbers(tree.Node, func(attr string) {
		ps.warnf(first, "%s: compare through number(%s): an attribute from a form is often text, and then the comparison fails and the rule gives nothing", key, attr)
	})
	prog, err := expr.Compile(src, append([]expr.Option{expr.Env(condition.Vars{}), expr.AsBool()}, textFuncs...)...)
	if err != nil {
		l, msg := exprError(err)
		return fail(l, "%s", msg)
	}
	return &Expr{Src: src, Line: n.Line, prog: prog}, true
}

// warnNumbers calls warn for each attribute compared with a number as it
// is, such as attr.company_size >= 200.
func warnNumbers(root exprast.Node, warn func(attr string)) {
	exprast.Walk(&root, visitor(func(node *exprast.Node) {
		b, ok := (*node).(*exprast.BinaryNode)
		if !ok || !slices.Contains([]string{"<", ">", "<=", ">="}, b.Operator) {
			return
		}
		for _, pair := range [][2]exprast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
			if isNumber(pair[1]) {
				if m, ok := pair[0].(*exprast.MemberNode); ok {
					if id, ok := m.Node.(*exprast.IdentifierNode); ok && id.Value == "attr" {
						warn(m.String())
					}
				}
			}
		}
	}))
}

func isNumber(n exprast.Node) bool {
	switch n.(type) {
	case *exprast.IntegerNode, *exprast.FloatNode:
		return true
	}
	return false
}

type visitor func(n *exprast.Node)

func (v visitor) Visit(n *exprast.Node) { v(n) }

// exprError turns an expr error into a line of the expression and a
// one-line message, with a suggestion for a misspelt name.
func exprError(err error) (int, string) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return 1, err.Error()
	}
	msg := fe.Message
	if strings.HasPrefix(msg, "unexpected token EOF") {
		msg = "the condition ends too early"
	}
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		if s := problem.Suggest(name, exprNames); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		} else {
			msg += "; use score, fit, engagement, temperature, stage, source, attr.NAME, events, days_since_signup or number()"
		}
	}
	return fe.Line, fmt.Sprintf("%s (column %d)", msg, fe.Column+1)
}

// eval runs the expression for a lead with its score. A missing lead is
// an error; a missing attribute is nil, as in sequence conditions.
func (e *Expr) eval(f Facts, s Score, bands Bands) (bool, error) {
	l := f.Lead
	if l == nil {
		return false, errors.New("scoring: no lead")
	}
	v := condition.Vars{
		Score:       s.Total(),
		Fit:         s.Fit,
		Engagement:  s.Engagement,
		Temperature: string(bands.Of(s.Engagement)),
		Stage:       string(l.Stage),
		Source:      l.Source,
		Attr:        map[string]any(l.Attributes),
		Events:      f.Events,
		Number:      lead.Number,
	}
	if v.Attr == nil {
		v.Attr = map[string]any{}
	}
	if !l.CreatedAt.IsZero() {
		v.DaysSinceSignup = max(0, int(f.Now.Sub(l.CreatedAt)/(24*time.Hour)))
	}
	out, err := expr.Run(e.prog, v)
	if err != nil {
		return false, fmt.Errorf("scoring: line %d: %s: %w", e.Line, e.Src, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// textFuncs replace expr's lower(), upper() and trim() with ones that
// read a missing attribute as "" (and a number as its digits) instead of
// failing, so that lower(attr.job_title) matches "head" is simply false for
// a lead without a job title.
var textFuncs = []expr.Option{
	textFunc("lower", strings.ToLower),
	textFunc("upper", strings.ToUpper),
	textFunc("trim", strings.TrimSpace),
}

func textFunc(name string, f func(string) string) expr.Option {
	return expr.Function(name, func(args ...any) (any, error) {
		return f(text(args[0])), nil
	}, new(func(any) string))
}

// text reads a value as text: nil is "", a number its shortest digits.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
