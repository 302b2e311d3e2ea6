package condition

import (
	"fmt"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/nurture/nurture/internal/lead"
)

// warnings finds what compiles but cannot work as meant: a form
// field compared with a number (forms send text, such as "250"), a stage
// that does not exist, and opens and clicks, which this version does not
// record yet. mistyped reports a form field compared with a number, which
// is what running the condition for the sample lead would find as well.
func warnings(root exprast.Node) (out []string, mistyped bool) {
	var tracked []string
	exprast.Walk(&root, visitor(func(n *exprast.Node) {
		switch x := (*n).(type) {
		case *exprast.BinaryNode:
			if w := fieldAgainstNumber(x); w != "" {
				out, mistyped = append(out, w), true
			}
			if w := unknownStage(x); w != "" {
				out = append(out, w)
			}
		case *exprast.CallNode:
			if id, ok := x.Callee.(*exprast.IdentifierNode); ok && slices.Contains([]string{"opened", "clicked", "clicked_url"}, id.Value) {
				if s := x.String(); !slices.Contains(tracked, s) {
					tracked = append(tracked, s)
				}
			}
		}
	}))
	if len(tracked) > 0 {
		verb := "is"
		if len(tracked) > 1 {
			verb = "are"
		}
		w := fmt.Sprintf("%s %s always false in this version: Nurture does not record opens and clicks yet", strings.Join(tracked, " and "), verb)
		switch x := root.(type) {
		case *exprast.CallNode:
			w += ", so this mail is never sent"
		case *exprast.UnaryNode:
			if _, call := x.Node.(*exprast.CallNode); call && (x.Operator == "not" || x.Operator == "!") {
				w += ", so this mail goes to every lead"
			}
		}
		out = append(out, w)
	}
	return out, mistyped
}

// fieldAgainstNumber warns of attr.NAME compared with a number: a form
// sends "250", which never equals or exceeds 200, and a missing field is
// nil.
func fieldAgainstNumber(b *exprast.BinaryNode) string {
	if !slices.Contains([]string{"<", "<=", ">", ">=", "==", "!="}, b.Operator) {
		return ""
	}
	switch {
	case isAttr(b.Left) && isNumeric(b.Right):
		return numberHint(b, fmt.Sprintf("number(%s) %s %s", b.Left, b.Operator, b.Right))
	case isNumeric(b.Left) && isAttr(b.Right):
		return numberHint(b, fmt.Sprintf("%s %s number(%s)", b.Left, b.Operator, b.Right))
	}
	return ""
}

func numberHint(b *exprast.BinaryNode, fixed string) string {
	never := "never true"
	if b.Operator == "!=" {
		never = "always true"
	}
	return fmt.Sprintf("%s is %s for a lead whose form sent \"250\" or nothing: forms send text, so compare through number(): %s", b, never, fixed)
}

func isAttr(n exprast.Node) bool {
	m, ok := n.(*exprast.MemberNode)
	if !ok {
		return false
	}
	id, ok := m.Node.(*exprast.IdentifierNode)
	return ok && id.Value == "attr"
}

func isNumeric(n exprast.Node) bool {
	switch x := n.(type) {
	case *exprast.IntegerNode, *exprast.FloatNode:
		return true
	case *exprast.UnaryNode:
		return x.Operator == "-" && isNumeric(x.Node)
	case *exprast.IdentifierNode:
		return x.Value == "score" || x.Value == "days_since_signup"
	case *exprast.CallNode:
		id, ok := x.Callee.(*exprast.IdentifierNode)
		return ok && id.Value == "number"
	}
	return false
}

// unknownStage warns of stage compared with a text that is no stage, such
// as "MQL" or "won": it is never equal.
func unknownStage(b *exprast.BinaryNode) string {
	id, ok := b.Left.(*exprast.IdentifierNode)
	if !ok || id.Value != "stage" {
		return ""
	}
	var texts []string
	switch r := b.Right.(type) {
	case *exprast.StringNode:
		if b.Operator == "==" || b.Operator == "!=" {
			texts = append(texts, r.Value)
		}
	case *exprast.ArrayNode:
		if b.Operator == "in" || b.Operator == "not in" {
			for _, n := range r.Nodes {
				if s, ok := n.(*exprast.StringNode); ok {
					texts = append(texts, s.Value)
				}
			}
		}
	}
	for _, t := range texts {
		if !lead.Stage(t).Valid() {
			return fmt.Sprintf("%s: %q is not a stage, so no lead's stage is ever %q; stages are %s, in lower case", b, t, t, lead.StageNames())
		}
	}
	return ""
}
