package condition

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/problem"
)

// Vars are the names about a lead that a step's condition and
// scoring.yaml's expressions both see, with the same meaning.
type Vars struct {
	Score           int                 `expr:"score"`
	Fit             int                 `expr:"fit"`
	Engagement      int                 `expr:"engagement"`
	Temperature     string              `expr:"temperature"`
	Stage           string              `expr:"stage"`
	Source          string              `expr:"source"`
	Attr            map[string]any      `expr:"attr"`
	Events          []string            `expr:"events"`
	DaysSinceSignup int                 `expr:"days_since_signup"`
	Number          func(v any) float64 `expr:"number"`
}

// env is what a condition sees. Its fields are filled per evaluation,
// only those the condition uses.
type env struct {
	Vars       `expr:"-"`
	Opened     func(step string) (bool, error) `expr:"opened"`
	Clicked    func(step string) (bool, error) `expr:"clicked"`
	ClickedURL func(glob string) (bool, error) `expr:"clicked_url"`
}

// names are every name a condition may use, for suggestions.
var names = []string{"score", "fit", "engagement", "temperature", "stage", "source", "attr", "events", "days_since_signup", "opened", "clicked", "clicked_url", "number", "previous"}

// Steps is what a condition may name: the steps of its sequence in order,
// and which of them the condition belongs to. opened() and clicked() may
// name only steps before it.
type Steps struct {
	Sequence string   // the sequence's ID: opened("guide") asks about "Sequence/guide"
	Slugs    []string // the steps' slugs, in order
	Self     int      // the index in Slugs of the step whose condition it is
}

func (s Steps) key(slug string) string { return s.Sequence + "/" + slug }

// Condition is a step's compiled `if`.
type Condition struct {
	src  string
	prog *vm.Program
	uses map[string]bool
	// Warnings say, in the guide's words, what compiles but cannot work as
	// meant.
	Warnings []string
	// Mistyped is set when a warning says that a form field is compared
	// with a number, which is what running the condition would find too.
	Mistyped bool
}

// Error is a condition that does not compile: the line of the condition
// it is on, from 1, and what to write instead, in the guide's words.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Compile parses, checks and compiles a condition. Its error is an *Error.
func Compile(src string, steps Steps) (*Condition, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, explained(err, src)
	}
	c := &Condition{src: src, uses: map[string]bool{}}
	if problem := checkNames(tree.Node, steps, c.uses); problem != "" {
		return nil, &Error{Line: 1, Msg: problem}
	}
	prog, err := expr.Compile(src, expr.Env(env{}), expr.AsBool(), expr.Patch(stepKeys(steps)))
	if err != nil {
		return nil, explained(err, src)
	}
	c.prog = prog
	c.Warnings, c.Mistyped = warnings(tree.Node)
	return c, nil
}

func explained(err error, src string) error {
	line, msg := Explain(err, src)
	return &Error{Line: line, Msg: msg}
}

// checkNames notes in uses every name the condition uses, and returns what
// is wrong with the steps it names, or "".
func checkNames(root exprast.Node, steps Steps, uses map[string]bool) string {
	stepArgs := map[exprast.Node]bool{}
	var problem string
	exprast.Walk(&root, visitor(func(n *exprast.Node) {
		switch x := (*n).(type) {
		case *exprast.IdentifierNode:
			uses[x.Value] = true
		case *exprast.CallNode:
			id, ok := x.Callee.(*exprast.IdentifierNode)
			if !ok || (id.Value != "opened" && id.Value != "clicked") {
				return
			}
			if len(x.Arguments) != 1 {
				problem = fmt.Sprintf("%s() takes one step: its name in quotes, such as %s(%q), or previous", id.Value, id.Value, "welcome")
				return
			}
			stepArgs[x.Arguments[0]] = true
			if p := stepProblem(id.Value, x.Arguments[0], steps); p != "" {
				problem = p
			}
		}
	}))
	if problem != "" {
		return problem
	}
	exprast.Walk(&root, visitor(func(n *exprast.Node) {
		if id, ok := (*n).(*exprast.IdentifierNode); ok && id.Value == "previous" && !stepArgs[*n] {
			problem = "previous only works inside opened() or clicked()"
		}
	}))
	return problem
}

// stepProblem says what is wrong with the step that fn, opened or clicked,
// names with arg, or "".
func stepProblem(fn string, arg exprast.Node, steps Steps) string {
	switch arg := arg.(type) {
	case *exprast.StringNode:
		i := slices.Index(steps.Slugs, arg.Value)
		switch {
		case i < 0:
			if s := problem.Suggest(arg.Value, steps.Slugs); s != "" {
				return fmt.Sprintf("%s(%q): there is no step %q in this sequence; did you mean %q?", fn, arg.Value, arg.Value, s)
			}
			return fmt.Sprintf("%s(%q): there is no step %q in this sequence (steps: %s)", fn, arg.Value, arg.Value, strings.Join(steps.Slugs, ", "))
		case i == steps.Self:
			return fmt.Sprintf("%s(%q): a step cannot ask about itself; it has not been sent yet", fn, arg.Value)
		case i > steps.Self:
			return fmt.Sprintf("%s(%q): that step comes later, so it has not been sent when this one is due", fn, arg.Value)
		}
	case *exprast.IdentifierNode:
		if arg.Value != "previous" {
			return fmt.Sprintf("%s(%s): write the step's name in quotes, such as %s(%q), or previous", fn, arg.Value, fn, arg.Value)
		}
		if steps.Self == 0 {
			return fmt.Sprintf("%s(previous): the first step has no previous step", fn)
		}
	default:
		return fmt.Sprintf("%s() takes a step's name in quotes, such as %s(%q), or previous", fn, fn, "welcome")
	}
	return ""
}

// stepKeys rewrites the step that opened() and clicked() name, a slug or
// previous, into the step's key, which Facts take.
func stepKeys(steps Steps) visitor {
	return func(n *exprast.Node) {
		call, ok := (*n).(*exprast.CallNode)
		if !ok || len(call.Arguments) != 1 {
			return
		}
		if id, ok := call.Callee.(*exprast.IdentifierNode); !ok || (id.Value != "opened" && id.Value != "clicked") {
			return
		}
		switch arg := call.Arguments[0].(type) {
		case *exprast.StringNode:
			exprast.Patch(&call.Arguments[0], &exprast.StringNode{Value: steps.key(arg.Value)})
		case *exprast.IdentifierNode:
			exprast.Patch(&call.Arguments[0], &exprast.StringNode{Value: steps.key(steps.Slugs[steps.Self-1])})
		}
	}
}

type visitor func(n *exprast.Node)

func (v visitor) Visit(n *exprast.Node) { v(n) }

// Eval runs the condition against one lead's facts, asking them only for
// what the condition uses.
func (c *Condition) Eval(f Facts) (bool, error) {
	l := f.Lead()
	if l == nil {
		return false, errors.New("no lead")
	}
	e := env{
		Vars: Vars{
			Score:       l.Score,
			Fit:         l.Fit,
			Engagement:  l.Engagement,
			Temperature: cmp.Or(l.Temperature, "cold"),
			Stage:       string(l.Stage),
			Source:      l.Source,
			Attr:        l.Attributes,
			Number:      lead.Number,
		},
		Opened:  f.Opened,
		Clicked: f.Clicked,
	}
	if c.uses["events"] {
		ev, err := f.Events()
		if err != nil {
			return false, err
		}
		e.Events = ev
	}
	if c.uses["days_since_signup"] {
		e.DaysSinceSignup = max(0, int(f.Now().Sub(l.CreatedAt)/(24*time.Hour)))
	}
	var urls []string
	loaded := false
	e.ClickedURL = func(glob string) (bool, error) {
		if !loaded {
			var err error
			if urls, err = f.ClickedURLs(); err != nil {
				return false, err
			}
			loaded = true
		}
		return slices.ContainsFunc(urls, func(u string) bool { return MatchURL(glob, u) }), nil
	}
	out, err := expr.Run(c.prog, e)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// MatchURL reports whether url matches pattern, where * in the pattern
// stands for any run of characters (slashes included) and everything else
// must match exactly: clicked_url() in a condition, and the clicked_url
// exit of a sequence.
func MatchURL(pattern, url string) bool {
	p, u := 0, 0
	star, mark := -1, 0
	for u < len(url) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, u
			p++
		case p < len(pattern) && pattern[p] == url[u]:
			p++
			u++
		case star >= 0:
			p = star + 1
			mark++
			u = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
