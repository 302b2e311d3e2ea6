package campaign

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/nurture/nurture/internal/lead"
)

// Facts are what a condition may ask about one lead in one enrolment. The
// sequence engine implements them from the database. A method is called only
// when the condition being evaluated needs it, and at most once per Eval, so
// an implementation may query lazily.
type Facts interface {
	// Lead is the lead as it is now: score, stage, source, attributes and
	// CreatedAt (when it signed up).
	Lead() *lead.Lead
	// Now is the time the condition is evaluated at.
	Now() time.Time
	// Events are the types of the events the lead produced, such as
	// "webinar_attended", in any order, duplicates allowed.
	Events() ([]string, error)
	// Opened reports whether the lead opened the mail of a step in this
	// enrolment. step is a Step.Key, such as "welcome/hello".
	Opened(step string) (bool, error)
	// Clicked reports whether the lead clicked a link in the mail of a step
	// in this enrolment.
	Clicked(step string) (bool, error)
	// ClickedURLs are the addresses of every link the lead clicked in any
	// mail, as written in the campaign file (before click tracking rewrote
	// them).
	ClickedURLs() ([]string, error)
}

// Snapshot is Facts held in memory: for tests, previews and engines that
// load everything up front.
type Snapshot struct {
	Of           *lead.Lead
	At           time.Time
	EventTypes   []string
	OpenedSteps  []string // step keys
	ClickedSteps []string // step keys
	URLs         []string // clicked addresses
}

func (s Snapshot) Lead() *lead.Lead                 { return s.Of }
func (s Snapshot) Now() time.Time                   { return s.At }
func (s Snapshot) Events() ([]string, error)        { return s.EventTypes, nil }
func (s Snapshot) Opened(step string) (bool, error) { return slices.Contains(s.OpenedSteps, step), nil }
func (s Snapshot) Clicked(step string) (bool, error) {
	return slices.Contains(s.ClickedSteps, step), nil
}
func (s Snapshot) ClickedURLs() ([]string, error) { return s.URLs, nil }

// condEnv is what a condition sees. Its fields are filled per evaluation,
// only those the condition uses.
type condEnv struct {
	Score           int                             `expr:"score"`
	Stage           string                          `expr:"stage"`
	Source          string                          `expr:"source"`
	Attr            map[string]any                  `expr:"attr"`
	Events          []string                        `expr:"events"`
	DaysSinceSignup int                             `expr:"days_since_signup"`
	Opened          func(step string) (bool, error) `expr:"opened"`
	Clicked         func(step string) (bool, error) `expr:"clicked"`
	ClickedURL      func(glob string) (bool, error) `expr:"clicked_url"`
	Number          func(v any) float64             `expr:"number"`
}

var condNames = []string{"score", "stage", "source", "attr", "events", "days_since_signup", "opened", "clicked", "clicked_url", "number", "previous"}

// condition is a step's compiled `if`.
type condition struct {
	src  string
	prog *vm.Program
	uses map[string]bool
	// mistyped is set when check warned of a form field compared with
	// a number already.
	mistyped bool
}

// compileCondition parses, checks and compiles a step's `if`. slugs are the
// sequence's steps in order and self the index of the step it belongs to:
// opened() and clicked() may name only steps before it.
func compileCondition(src, sequence string, slugs []string, self int, path string, line int, ps *problems) (*condition, bool) {
	fail := func(exprLine int, format string, args ...any) (*condition, bool) {
		ps.errorf(path, line+max(exprLine, 1)-1, "if: "+format, args...)
		return nil, false
	}
	tree, err := parser.Parse(src)
	if err != nil {
		l, msg := exprError(err, src)
		return fail(l, "%s", msg)
	}
	c := &condition{src: src, uses: map[string]bool{}}
	stepArgs := map[exprast.Node]bool{}
	var problem string
	exprast.Walk(&tree.Node, visitor(func(n *exprast.Node) {
		switch x := (*n).(type) {
		case *exprast.IdentifierNode:
			c.uses[x.Value] = true
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
			switch arg := x.Arguments[0].(type) {
			case *exprast.StringNode:
				i := slices.Index(slugs, arg.Value)
				switch {
				case i < 0:
					if s := suggest(arg.Value, slugs); s != "" {
						problem = fmt.Sprintf("%s(%q): there is no step %q in this sequence; did you mean %q?", id.Value, arg.Value, arg.Value, s)
					} else {
						problem = fmt.Sprintf("%s(%q): there is no step %q in this sequence (steps: %s)", id.Value, arg.Value, arg.Value, strings.Join(slugs, ", "))
					}
				case i == self:
					problem = fmt.Sprintf("%s(%q): a step cannot ask about itself; it has not been sent yet", id.Value, arg.Value)
				case i > self:
					problem = fmt.Sprintf("%s(%q): that step comes later, so it has not been sent when this one is due", id.Value, arg.Value)
				}
			case *exprast.IdentifierNode:
				if arg.Value != "previous" {
					problem = fmt.Sprintf("%s(%s): write the step's name in quotes, such as %s(%q), or previous", id.Value, arg.Value, id.Value, arg.Value)
				} else if self == 0 {
					problem = fmt.Sprintf("%s(previous): the first step has no previous step", id.Value)
				}
			default:
				problem = fmt.Sprintf("%s() takes a step's name in quotes, such as %s(%q), or previous", id.Value, id.Value, "welcome")
			}
		}
	}))
	if problem == "" {
		exprast.Walk(&tree.Node, visitor(func(n *exprast.Node) {
			if id, ok := (*n).(*exprast.IdentifierNode); ok && id.Value == "previous" && !stepArgs[*n] {
				problem = "previous only works inside opened() or clicked()"
			}
		}))
	}
	if problem != "" {
		return fail(1, "%s", problem)
	}

	key := func(slug string) string { return sequence + "/" + slug }
	prog, err := expr.Compile(src, expr.Env(condEnv{}), expr.AsBool(), expr.Patch(visitor(func(n *exprast.Node) {
		call, ok := (*n).(*exprast.CallNode)
		if !ok || len(call.Arguments) != 1 {
			return
		}
		if id, ok := call.Callee.(*exprast.IdentifierNode); !ok || (id.Value != "opened" && id.Value != "clicked") {
			return
		}
		switch arg := call.Arguments[0].(type) {
		case *exprast.StringNode:
			exprast.Patch(&call.Arguments[0], &exprast.StringNode{Value: key(arg.Value)})
		case *exprast.IdentifierNode:
			exprast.Patch(&call.Arguments[0], &exprast.StringNode{Value: key(slugs[self-1])})
		}
	})))
	if err != nil {
		l, msg := exprError(err, src)
		return fail(l, "%s", msg)
	}
	c.prog = prog
	warnings, mistyped := conditionWarnings(tree.Node)
	for _, w := range warnings {
		ps.warnf(path, line, "if: %s", w)
	}
	c.mistyped = mistyped
	return c, true
}

type visitor func(n *exprast.Node)

func (v visitor) Visit(n *exprast.Node) { v(n) }

// eval runs the condition against one lead's facts.
func (c *condition) eval(f Facts) (bool, error) {
	l := f.Lead()
	if l == nil {
		return false, errors.New("no lead")
	}
	env := condEnv{
		Score:  l.Score,
		Stage:  string(l.Stage),
		Source: l.Source,
		Attr:   l.Attributes,
	}
	if c.uses["events"] {
		ev, err := f.Events()
		if err != nil {
			return false, err
		}
		env.Events = ev
	}
	if c.uses["days_since_signup"] {
		env.DaysSinceSignup = max(0, int(f.Now().Sub(l.CreatedAt)/(24*time.Hour)))
	}
	env.Opened = f.Opened
	env.Clicked = f.Clicked
	var urls []string
	loaded := false
	env.ClickedURL = func(glob string) (bool, error) {
		if !loaded {
			var err error
			if urls, err = f.ClickedURLs(); err != nil {
				return false, err
			}
			loaded = true
		}
		for _, u := range urls {
			if MatchURL(glob, u) {
				return true, nil
			}
		}
		return false, nil
	}
	env.Number = number
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// number reads a value as a number, forgivingly, since signup forms send
// numbers as text: "250" and 250 are both 250, and anything that is not a
// number, a missing attribute included, is 0.
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case bool:
		if x {
			return 1
		}
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f
		}
	}
	return 0
}

// MatchURL reports whether url matches pattern, where * in the pattern
// stands for any run of characters (slashes included) and everything else
// must match exactly.
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
