package condition

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
)

// conditionProblems compiles src as the if: of the second of two steps,
// "welcome" and "guide", on line 4 of s/02-guide.md, and returns what
// campaign reports of it: path:line: if: message, a warning with
// "warning: ".
func conditionProblems(src string) []string {
	c, err := Compile(src, Steps{Sequence: "s", Slugs: []string{"welcome", "guide"}, Self: 1})
	var ce *Error
	if errors.As(err, &ce) {
		return []string{fmt.Sprintf("s/02-guide.md:%d: if: %s", 4+max(ce.Line, 1)-1, ce.Msg)}
	}
	out := []string{}
	for _, w := range c.Warnings {
		out = append(out, "s/02-guide.md:4: warning: if: "+w)
	}
	return out
}

// translations are mistakes a marketer makes, the message the expression
// library gives for each (checked, so that a new version of the library
// that words one differently shows here), and what check says instead.
var translations = []struct{ src, library, want string }{
	{`source == "a|b" score > 2`, `unexpected token Identifier("score")`,
		`if: "score" is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >= (column 17)`},
	{`score > `, `unexpected token EOF`,
		`if: the condition ends too early (column 8)`},
	{`score >> 20`, `unexpected token Operator(">")`,
		`if: write > or >=, not >> (column 8)`},
	{`score = 20`, `unexpected token Operator("=")`,
		`if: a single = does not compare: write ==, such as stage == "mql" (column 7)`},
	{`score => 20`, `unexpected token Operator("=")`,
		`if: write >= instead of => (column 7)`},
	{`score =< 20`, `unexpected token Operator("=")`,
		`if: write <= instead of =< (column 7)`},
	{`score > 20 and`, `unexpected token EOF`,
		`if: the condition ends after and: write what follows it (column 14)`},
	{`(score > 20`, `unexpected token EOF`,
		`if: a ( is not closed: add the ) (column 11)`},
	{`score > 20)`, `unexpected token Bracket(")")`,
		`if: this ) has no matching ( (column 11)`},
	{`stage == mql`, `unknown name mql`,
		`if: unknown name mql: text goes in double quotes, such as stage == "mql" (column 10)`},
	{`stage = "mql"`, `unexpected token Operator("=")`,
		`if: a single = does not compare: write ==, such as stage == "mql" (column 7)`},
	{`score == "20"`, `invalid operation: == (mismatched types int and string)`,
		`if: score is a number and "20" is text: write the number without quotes (column 7)`},
	{`score > "20"`, `invalid operation: > (mismatched types int and string)`,
		`if: score is a number and "20" is text: write the number without quotes (column 7)`},
	{`score && stage`, `invalid operation: && (mismatched types int and string)`,
		`if: && joins conditions, but score is a number: compare it, such as score > 20 (column 7)`},
	{`score > 20 AND stage == "mql"`, `unexpected token Identifier("AND")`,
		`if: write and in lower case (column 12)`},
	{`score > 20 & stage == "mql"`, `unexpected token Operator("&")`,
		`if: write and instead of & (column 12)`},
	{`score > 20 | stage == "mql"`, `unexpected token Operator("==")`,
		`if: write or instead of | (column 20)`},
	{`NOT clicked(previous)`, `unexpected token Identifier("clicked")`,
		`if: write not in lower case (column 5)`},
	{`opned("x")`, `unknown name opned`,
		`if: unknown name opned; did you mean opened? (column 1)`},
	{`stage`, `expected bool, but got string`,
		`if: the condition must be true or false, but stage is text: compare it, such as score > 20 or stage == "mql"`},
	{`score + 1`, `expected bool, but got int`,
		`if: the condition must be true or false, but score + 1 is a number: compare it, such as score > 20 or stage == "mql"`},
	{`"webinar" in event`, `unknown name event`,
		`if: unknown name event; did you mean events? (column 14)`},
	{`events contains "x"`, `invalid operation: contains (mismatched types []string and string)`,
		`if: contains needs a list after it, such as "demo_booked" in events or stage in ["sal", "sql"]; "x" is text (column 8)`},
	{`stage in ("sal", "sql")`, `unexpected token Operator(",")`,
		`if: a list goes in square brackets, such as stage in ["sal", "sql"] (column 16)`},
	{`stage in ["sal" "sql"]`, `unexpected token String("sql")`,
		`if: a comma is missing between the items of the list (column 17)`},
	{`days_since_signup > 30 days`, `unexpected token Identifier("days")`,
		`if: "days" is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >= (column 24)`},
	{`score > 20,`, `unexpected token Operator(",")`,
		`if: a comma only separates the items of a [list] or what a function such as clicked_url() takes (column 11)`},
	{`"unclosed`, `literal not terminated`,
		`if: a text in quotes is not closed: end it with " (column 10)`},
	{`stage == "mql`, `literal not terminated`,
		`if: a text in quotes is not closed: end it with " (column 14)`},
	{`number(attr.company_size) >= 2OO`, `bad number syntax: "2O"`,
		`if: "2O" is not a number: write digits only, such as 200 (column 31)`},
	{`number(attr.company_size) >= "200"`, `invalid operation: >= (mismatched types float64 and string)`,
		`if: number(attr.company_size) is a number and "200" is text: write the number without quotes (column 27)`},
	{`number(attr.company_size) > 200 and score`, `invalid operation: and (mismatched types bool and int)`,
		`if: and joins conditions, but score is a number: compare it, such as score > 20 (column 33)`},
	{`lower(attr.industry)`, `expected bool, but got string`,
		`if: the condition must be true or false, but lower(attr.industry) is text: compare it, such as score > 20 or stage == "mql"`},
	{`score >= 20 or`, `unexpected token EOF`,
		`if: the condition ends after or: write what follows it (column 14)`},
	{`score >== 20`, `unexpected token Operator("=")`,
		`if: write >= with one = (column 9)`},
	{`score > 20 stage == "mql"`, `unexpected token Identifier("stage")`,
		`if: "stage" is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >= (column 12)`},
	{`stage equals "mql"`, `unexpected token Identifier("equals")`,
		`if: "equals" is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >= (column 7)`},
	{`score > 20 then`, `unexpected token Identifier("then")`,
		`if: "then" is not expected here: join conditions with and or or, and compare with ==, !=, <, <=, > or >= (column 12)`},
	{`clicked_url(https://x)`, `unexpected token Operator(":")`,
		`if: put the address in double quotes, such as clicked_url("https://example.com/pricing*") (column 18)`},
	{`clicked_url("x", "y")`, `too many arguments to call clicked_url`,
		`if: clicked_url() takes one address in quotes, such as clicked_url("https://example.com/pricing*") (column 1)`},
	{`number()`, `not enough arguments to call number`,
		`if: number() takes one value, such as number(attr.company_size) (column 1)`},
	{`number(1,2)`, `too many arguments to call number`,
		`if: number() takes one value, such as number(attr.company_size) (column 1)`},
	{`score.x`, `type int has no field x`,
		`if: .x: a number has no fields; only attr does, such as attr.company (column 7)`},
	{`stage == "mql" or or score > 1`, `unexpected token Operator("or")`,
		`if: "or" is not expected here: something is missing before it (column 19)`},
	{`score > 1.5.5`, `unexpected token Number(".5")`,
		`if: ".5" is not expected here (column 12)`},
	{`events == "x"`, `invalid operation: == (mismatched types []string and string)`,
		`if: events == "x" compares a list with text, which is never true: compare like with like (column 8)`},
	{`"x" in score`, `invalid operation: in (mismatched types string and int)`,
		`if: in needs a list after it, such as "demo_booked" in events or stage in ["sal", "sql"]; score is a number (column 5)`},
	{`source in "newsletter"`, `invalid operation: in (mismatched types string and string)`,
		`if: in needs a list after it, such as "demo_booked" in events or stage in ["sal", "sql"]; "newsletter" is text (column 8)`},
	{`not score`, `invalid operation: not (mismatched type int)`,
		`if: not needs a condition after it, but score is a number (column 1)`},
	{`stage > 2`, `invalid operation: > (mismatched types string and int)`,
		`if: stage > 2 compares text with a number, which is never true: compare like with like (column 7)`},
	{`$score > 2`, `unknown name $score`,
		`if: unknown name $score; did you mean score? (column 1)`},
	{`score > 20 # comment`, `unexpected token Operator("#")`,
		`if: # does not start a comment in a condition: remove it and what follows (column 12)`},
}

// Each of the library's messages comes out in the guide's words, with its
// column.
func TestCompileCondition_TranslatesTheLibrarysMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range translations {
		_, err := expr.Compile(tt.src, expr.Env(env{}), expr.AsBool())
		var fe *file.Error
		switch {
		case errors.As(err, &fe):
			if fe.Message != tt.library {
				t.Errorf("if: %s: the library now says %q, not %q", tt.src, fe.Message, tt.library)
			}
		case err == nil || err.Error() != tt.library:
			t.Errorf("if: %s: the library now says %v, not %q", tt.src, err, tt.library)
		}
		got := conditionProblems(tt.src)
		want := "s/02-guide.md:4: " + tt.want
		if len(got) != 1 || got[0] != want {
			t.Errorf("if: %s\n got: %s\nwant: %s", tt.src, strings.Join(got, "\n      "), want)
		}
	}
}

func TestCompileCondition_WarnsOfConditionsThatCannotWorkAsMeant(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ src, want string }{
		{`attr.company_size >= 200`, `warning: if: attr.company_size >= 200 is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company_size) >= 200`},
		{`200 < attr.company_size`, `warning: if: 200 < attr.company_size is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): 200 < number(attr.company_size)`},
		{`attr.company_size == 250 and score > 2`, `warning: if: attr.company_size == 250 is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company_size) == 250`},
		{`stage == "MQL"`, `warning: if: stage == "MQL": "MQL" is not a stage, so no lead's stage is ever "MQL"; stages are lead, mql, sal, sql, in lower case`},
		{`stage != "won"`, `warning: if: stage != "won": "won" is not a stage, so no lead's stage is ever "won"; stages are lead, mql, sal, sql, in lower case`},
		{`stage in ["sal", "won"]`, `warning: if: stage in ["sal", "won"]: "won" is not a stage, so no lead's stage is ever "won"; stages are lead, mql, sal, sql, in lower case`},
		{`attr.company_size != 250`, `warning: if: attr.company_size != 250 is always true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company_size) != 250`},
		{`temperature == "Hot"`, `warning: if: temperature == "Hot": "Hot" is not a temperature, so no lead's temperature is ever "Hot"; temperatures are cold, warm, hot, in lower case`},
		{`temperature in ["warm", "burning"]`, `warning: if: temperature in ["warm", "burning"]: "burning" is not a temperature, so no lead's temperature is ever "burning"; temperatures are cold, warm, hot, in lower case`},
		{`attr.company_size > engagement`, `warning: if: attr.company_size > engagement is never true for a lead whose form sent "250" or nothing: forms send text, so compare through number(): number(attr.company_size) > engagement`},
		{`opened("welcome") and clicked(previous)`, ""},
		{`clicked_url("https://x/*") or score > 2`, ""},
		{`temperature in ["warm", "hot"] and fit >= 10`, ""},
		{`number(attr.company_size) >= 200`, ""},
		{`stage in ["sal", "sql"] and attr.country == "DE"`, ""},
	} {
		got := conditionProblems(tt.src)
		want := []string{}
		if tt.want != "" {
			want = append(want, "s/02-guide.md:4: "+tt.want)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("if: %s\n got: %s\nwant: %s", tt.src, strings.Join(got, "\n      "), strings.Join(want, "\n"))
		}
	}
}
