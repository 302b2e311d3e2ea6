package condition

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"

	"github.com/nurture/nurture/internal/problem"
)

// The expression library words its errors for programmers: "unexpected
// token Operator(\"=\")", "mismatched types int and string". Explain
// says the same in the words of the guide, keeping the column, so that a
// marketer knows what to change.

var (
	unexpectedRE = regexp.MustCompile(`^unexpected token (\w+)(?:\((.*)\))?$`)
	runtimeOpRE  = regexp.MustCompile(`^invalid operation: (\S+) (\S+) (\S+)$`)
	mismatchRE   = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types? (\S+)(?: and (\S+))?\)$`)
	argsRE       = regexp.MustCompile(`^(not enough|too many) arguments to call (\w+)$`)
	expectedRE   = regexp.MustCompile(`^expected bool, but got (\S+)$`)
	noFieldRE    = regexp.MustCompile(`^type (\S+) has no field (\w+)$`)
	badNumberRE  = regexp.MustCompile(`^bad number syntax: "(.*)"$`)
)

// Explain turns an error of the expression library for the condition src
// into a line of the condition and a message in the guide's words, with the
// column where there is one.
func Explain(err error, src string) (int, string) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return 1, conditionWords(err.Error(), src, 0)
	}
	msg := conditionWords(fe.Message, src, fe.From)
	if expectedRE.MatchString(fe.Message) {
		return 1, msg // the whole condition is meant, not a column of it
	}
	return fe.Line, fmt.Sprintf("%s (column %d)", msg, fe.Column+1)
}

// conditionWords translates one message; at is the rune offset in src the
// library points to.
func conditionWords(msg, src string, at int) string {
	runes := []rune(src)
	at = min(max(at, 0), len(runes))
	before, rest := strings.TrimSpace(string(runes[:at])), string(runes[at:])
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		return unknownName(name)
	}
	if m := unexpectedRE.FindStringSubmatch(msg); m != nil {
		return unexpectedToken(m[1], strings.Trim(m[2], `"`), src, before, rest)
	}
	if m := mismatchRE.FindStringSubmatch(msg); m != nil {
		return mismatch(m[1], m[2], m[3], nodeAt(src, at))
	}
	if m := runtimeOpRE.FindStringSubmatch(msg); m != nil {
		return mismatch(m[2], m[1], m[3], nodeAt(src, at))
	}
	if m := argsRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s() takes %s", m[2], functionArgs(m[2]))
	}
	if m := expectedRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("the condition must be true or false, but %s is %s: compare it, such as score > 20 or stage == \"mql\"", strings.TrimSpace(src), kindOf(m[1]))
	}
	if m := noFieldRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf(".%s: %s has no fields; only attr does, such as attr.company", m[2], kindOf(m[1]))
	}
	if m := badNumberRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%q is not a number: write digits only, such as 200", m[1])
	}
	if msg == "literal not terminated" {
		return `a text in quotes is not closed: end it with "`
	}
	return msg
}

func unknownName(name string) string {
	if s := problem.Suggest(strings.TrimLeft(name, "$"), names); s != "" {
		return fmt.Sprintf("unknown name %s; did you mean %s?", name, s)
	}
	if lead := strings.ToLower(name); slices.Contains([]string{"lead", "mql", "sal", "sql"}, lead) {
		return fmt.Sprintf("unknown name %s: text goes in double quotes, such as stage == \"%s\"", name, lead)
	}
	return fmt.Sprintf("unknown name %s: use score, fit, engagement, temperature, stage, source, attr.NAME, events, days_since_signup, opened(), clicked() or clicked_url(), and put text in double quotes", name)
}

// unexpectedToken explains a token the parser did not expect; before is
// the condition up to it and rest the condition from it on.
func unexpectedToken(kind, tok, src, before, rest string) string {
	if kind == "EOF" {
		before = strings.TrimSpace(src)
	}
	lastWord := before[strings.LastIndexAny(before, " ()")+1:]
	switch {
	case kind == "EOF" && strings.Count(src, "(") > strings.Count(src, ")"):
		return "a ( is not closed: add the )"
	case kind == "EOF" && strings.Count(src, "[") > strings.Count(src, "]"):
		return "a [ is not closed: add the ]"
	case kind == "EOF" && slices.Contains([]string{"and", "or", "not"}, lastWord):
		return fmt.Sprintf("the condition ends after %s: write what follows it", lastWord)
	case kind == "EOF":
		return "the condition ends too early"
	case kind == "Identifier" && slices.Contains([]string{"AND", "OR", "NOT", "And", "Or", "Not"}, tok):
		return fmt.Sprintf("write %s in lower case", strings.ToLower(tok))
	case kind == "Identifier" && slices.Contains([]string{"AND", "OR", "NOT", "And", "Or", "Not"}, lastWord):
		return fmt.Sprintf("write %s in lower case", strings.ToLower(lastWord))
	case tok == "=" && (strings.HasSuffix(before, ">=") || strings.HasSuffix(before, "<=")):
		return fmt.Sprintf("write %s with one =", before[len(before)-2:])
	case tok == "=" && strings.HasSuffix(before, "=="):
		return "write == with two ="
	case tok == "=" && strings.HasPrefix(rest, "=>"):
		return "write >= instead of =>"
	case tok == "=" && strings.HasPrefix(rest, "=<"):
		return "write <= instead of =<"
	case tok == "=":
		return `a single = does not compare: write ==, such as stage == "mql"`
	case tok == ">" && strings.HasSuffix(before, ">"), tok == "<" && strings.HasSuffix(before, "<"):
		return fmt.Sprintf("write %s or %s=, not %s%s", tok, tok, tok, tok)
	case tok == "&":
		return "write and instead of &"
	case strings.Contains(quotedRE.ReplaceAllString(src, `""`), "|") && !strings.Contains(src, "||"):
		return "write or instead of |"
	case tok == "#":
		return "# does not start a comment in a condition: remove it and what follows"
	case tok == ":" && strings.Contains(lastWord, "http"):
		return `put the address in double quotes, such as clicked_url("https://example.com/pricing*")`
	case tok == "," && strings.Contains(before, "in ("):
		return `a list goes in square brackets, such as stage in ["sal", "sql"]`
	case tok == ",":
		return "a comma only separates the items of a [list] or what a function such as clicked_url() takes"
	case kind == "String" && strings.LastIndex(before, "[") > strings.LastIndex(before, "]"):
		return "a comma is missing between the items of the list"
	case kind == "Bracket" && (tok == ")" || tok == "]"):
		return fmt.Sprintf("this %s has no matching %s", tok, map[string]string{")": "(", "]": "["}[tok])
	case kind == "Identifier":
		return fmt.Sprintf("%q is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >=", tok)
	case kind == "Operator":
		return fmt.Sprintf("%q is not expected here: something is missing before it", tok)
	}
	return fmt.Sprintf("%q is not expected here", tok)
}

// mismatch explains an operator whose two sides do not fit.
func mismatch(op, left, right string, n exprast.Node) string {
	var l, r string
	switch x := n.(type) {
	case *exprast.BinaryNode:
		l, r = x.Left.String(), x.Right.String()
	case *exprast.UnaryNode:
		l = x.Node.String()
	}
	switch {
	case op == "not" || op == "!":
		return fmt.Sprintf("not needs a condition after it, but %s is %s", or(l, "it"), kindOf(left))
	case op == "and" || op == "or" || op == "&&" || op == "||":
		bad, kind := l, left
		if left == "bool" {
			bad, kind = r, right
		}
		return fmt.Sprintf("%s joins conditions, but %s is %s: compare it, such as score > 20", op, or(bad, "one side"), kindOf(kind))
	case op == "in" || op == "contains":
		return fmt.Sprintf(`%s needs a list after it, such as "demo_booked" in events or stage in ["sal", "sql"]; %s is %s`, op, or(r, "that"), kindOf(right))
	case isNumberType(left) && right == "string" && isQuotedNumber(r):
		return fmt.Sprintf("%s is a number and %s is text: write the number without quotes", or(l, "one side"), r)
	case left == "string" && isNumberType(right) && isQuotedNumber(l):
		return fmt.Sprintf("%s is text and %s is a number: write the number without quotes", l, or(r, "the other side"))
	case slices.Contains([]string{"+", "-", "*", "/", "%", "**", "^"}, op):
		return fmt.Sprintf("%s %s %s needs two numbers, but gets %s and %s: for a form field write number(attr.NAME)", or(l, "one side"), op, or(r, "the other"), kindOf(left), kindOf(right))
	}
	return fmt.Sprintf("%s %s %s compares %s with %s, which is never true: compare like with like", or(l, "one side"), op, or(r, "the other"), kindOf(left), kindOf(right))
}

// nodeAt finds the operator node the library's error points to.
func nodeAt(src string, at int) exprast.Node {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var found exprast.Node
	exprast.Walk(&tree.Node, visitor(func(n *exprast.Node) {
		switch (*n).(type) {
		case *exprast.BinaryNode, *exprast.UnaryNode:
			if (*n).Location().From == at && found == nil {
				found = *n
			}
		}
	}))
	return found
}

func functionArgs(name string) string {
	switch name {
	case "opened", "clicked":
		return fmt.Sprintf(`one step: its name in quotes, such as %s("welcome"), or previous`, name)
	case "clicked_url":
		return `one address in quotes, such as clicked_url("https://example.com/pricing*")`
	case "number":
		return "one value, such as number(attr.company_size)"
	}
	return "another number of values"
}

// kindOf names a type of the expression library as the guide does.
func kindOf(t string) string {
	switch {
	case isNumberType(t):
		return "a number"
	case t == "string":
		return "text"
	case t == "bool":
		return "a condition"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map"):
		return "attr, the set of form fields"
	case t == "<nil>" || t == "nil":
		return "nothing (nil)"
	}
	return t
}

func isNumberType(t string) bool {
	return strings.HasPrefix(t, "int") || strings.HasPrefix(t, "float") || strings.HasPrefix(t, "uint")
}

// quotedRE matches a text in quotes, whose characters are no operators.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)

var quotedNumberRE = regexp.MustCompile(`^["'][0-9.]+["']$`)

func isQuotedNumber(s string) bool { return quotedNumberRE.MatchString(s) }

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
