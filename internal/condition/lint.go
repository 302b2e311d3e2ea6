package condition

import (
	"fmt"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/nurture/nurture/internal/lead"
)

// warnings finds what compiles but cannot work as meant: a form field
// compared with a number (forms send text, such as "250"), and a stage or
// temperature that does not exist. mistyped reports a form field compared
// with a number, which is what running the condition for the sample lead
// would find as well.
func warnings(root exprast.Node) (out []string, mistyped bool) {
	exprast.Walk(&root, visitor(func(n *exprast.Node) {
		if x, ok := (*n).(*exprast.BinaryNode); ok {
			if w := fieldAgainstNumber(x); w != "" {
				out, mistyped = append(out, w), true
			}
			if w := unknownStage(x); w != "" {
				out = append(out, w)
			}
			if w := unknownTemperature(x); w != "" {
				out = append(out, w)
			}
		}
	}))
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
		return slices.Contains([]string{"score", "fit", "engagement", "days_since_signup"}, x.Value)
	case *exprast.CallNode:
		id, ok := x.Callee.(*exprast.IdentifierNode)
		return ok && id.Value == "number"
	}
	return false
}

// unknownStage warns of stage compared with a text that is no stage, such
// as "MQL" or "won": it is never equal.
func unknownStage(b *exprast.BinaryNode) string {
	for _, t := range comparedTexts(b, "stage") {
		if !lead.Stage(t).Valid() {
			return fmt.Sprintf("%s: %q is not a stage, so no lead's stage is ever %q; stages are %s, in lower case", b, t, t, lead.StageNames())
		}
	}
	return ""
}

// temperatures are the bands of scoring.yaml, in order.
var temperatures = []string{"cold", "warm", "hot"}

// unknownTemperature warns of temperature compared with a text that is no
// band, such as "Hot": it is never equal.
func unknownTemperature(b *exprast.BinaryNode) string {
	for _, t := range comparedTexts(b, "temperature") {
		if !slices.Contains(temperatures, t) {
			return fmt.Sprintf("%s: %q is not a temperature, so no lead's temperature is ever %q; temperatures are %s, in lower case", b, t, t, strings.Join(temperatures, ", "))
		}
	}
	return ""
}

// comparedTexts are the texts that b compares the variable name with, by
// == and != or in a list.
func comparedTexts(b *exprast.BinaryNode, name string) []string {
	id, ok := b.Left.(*exprast.IdentifierNode)
	if !ok || id.Value != name {
		return nil
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
	return texts
}
