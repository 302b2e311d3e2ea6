package scoring

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/problem"
)

var pointKeys = []string{"confirmed", "open", "click", "urls", "events"}

// signalKeys name the signals that are not events, for caps.
var signalKeys = []string{"confirmed", "open", "click", "urls"}

var eventType = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

func parsePoints(pf field, ps *problems) Points {
	p := Points{Events: map[string]EventPoints{}, lines: map[string]int{}}
	if !isMap(pf, "points", "click: 5", ps) {
		return p
	}
	for _, f := range mapping(pf.val, "points: ", ps) {
		p.lines[f.key] = f.line
		switch f.key {
		case "confirmed":
			p.Confirmed, _ = whole(f.val, "points.confirmed", ps)
		case "open":
			p.Open, _ = whole(f.val, "points.open", ps)
		case "click":
			p.Click, _ = whole(f.val, "points.click", ps)
		case "urls":
			p.URLs = parseURLs(f, ps)
		case "events":
			p.Events = parseEvents(f, ps)
		default:
			ps.unknownKey(f.line, "points: ", f.key, pointKeys)
		}
	}
	return p
}

func parseURLs(uf field, ps *problems) []URLPoints {
	if !isMap(uf, "points.urls", `"https://example.com/pricing*": 20`, ps) {
		return nil
	}
	var out []URLPoints
	for _, f := range mapping(uf.val, "points.urls: ", ps) {
		lower := strings.ToLower(f.key)
		if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
			ps.errorf(f.line, "points.urls: %q must be a web address starting with https:// or http://; * stands for any text", f.key)
			continue
		}
		if v, ok := whole(f.val, "points.urls: "+f.key, ps); ok {
			out = append(out, URLPoints{Pattern: f.key, Points: v, Line: f.line})
		}
	}
	return out
}

func parseEvents(ef field, ps *problems) map[string]EventPoints {
	out := map[string]EventPoints{}
	if !isMap(ef, "points.events", "demo_requested: 40", ps) {
		return out
	}
	for _, f := range mapping(ef.val, "points.events: ", ps) {
		if !eventType.MatchString(f.key) {
			ps.errorf(f.line, "points.events: %q is not an event type: use lower-case letters, digits, _ and -, as the events are sent", f.key)
			continue
		}
		if v, ok := whole(f.val, "points.events."+f.key, ps); ok {
			out[f.key] = EventPoints{Points: v, Line: f.line}
		}
	}
	return out
}

// parseCaps reads caps; a cap must be of a signal that has points.
func parseCaps(cf field, p Points, ps *problems) map[string]Cap {
	out := map[string]Cap{}
	if !isMap(cf, "caps", "open: 5", ps) {
		return out
	}
	known := slices.Clone(signalKeys)
	for t := range p.Events {
		known = append(known, t)
	}
	slices.Sort(known[len(signalKeys):])
	for _, f := range mapping(cf.val, "caps: ", ps) {
		if !slices.Contains(known, f.key) {
			if s := problem.Suggest(f.key, known); s != "" {
				ps.errorf(f.line, "caps: %q has no points to cap; did you mean %q?", f.key, s)
			} else {
				ps.errorf(f.line, "caps: %q has no points to cap: cap one of %s", f.key, strings.Join(known, ", "))
			}
			continue
		}
		v, ok := whole(f.val, "caps."+f.key, ps)
		if ok && v <= 0 {
			ps.errorf(f.val.Line, "caps.%s must be more than 0: it is the most points the signal earns a lead in a day", f.key)
			continue
		}
		if ok {
			out[f.key] = Cap{Max: v, Line: f.line}
		}
	}
	return out
}

func parseFit(ff field, ps *problems) []FitRule {
	if ff.val.Kind != yaml.SequenceNode {
		ps.errorf(ff.line, "fit must be a list of rules, each with if: and points:")
		return nil
	}
	var out []FitRule
	mapItems(ff.val, "fit rule", "if: number(attr.company_size) >= 50 and points: 20", ps, func(_ int, item *yaml.Node, where string, fields []field) {
		rule := FitRule{Line: item.Line}
		ok := true
		var hasIf, hasPoints bool
		for _, f := range fields {
			switch f.key {
			case "if":
				hasIf = true
				rule.If, ok = compileExpr(f.val, where+": if", scoreNames, ps)
			case "points":
				hasPoints = true
				var good bool
				rule.Points, good = whole(f.val, where+": points", ps)
				ok = ok && good
			default:
				ps.unknownKey(f.line, where+": ", f.key, []string{"if", "points"})
				ok = false
			}
		}
		if !hasIf || !hasPoints {
			ps.errorf(item.Line, "%s needs both if: (the condition) and points:", where)
			return
		}
		if ok && rule.If != nil {
			out = append(out, rule)
		}
	})
	return out
}

func parseDecay(df field, ps *problems) time.Duration {
	if !isMap(df, "decay", "half_life: 30d", ps) {
		return 0
	}
	var d time.Duration
	for _, f := range mapping(df.val, "decay: ", ps) {
		if f.key != "half_life" {
			ps.unknownKey(f.line, "decay: ", f.key, []string{"half_life"})
			continue
		}
		if f.val.Kind != yaml.ScalarNode {
			ps.errorf(f.val.Line, "decay.half_life must be a duration such as 30d")
			continue
		}
		v, err := parseDuration(f.val.Value)
		if err != nil {
			ps.errorf(f.val.Line, "decay.half_life: %v", err)
			continue
		}
		if v < time.Hour {
			ps.errorf(f.val.Line, "decay.half_life must be at least 1h")
			continue
		}
		d = v
	}
	return d
}

func parseBands(bf field, ps *problems) Bands {
	b := DefaultBands
	if !isMap(bf, "bands", "warm: 20", ps) {
		return b
	}
	line := bf.line
	for _, f := range mapping(bf.val, "bands: ", ps) {
		switch f.key {
		case "warm":
			b.Warm, _ = whole(f.val, "bands.warm", ps)
			line = f.line
		case "hot":
			b.Hot, _ = whole(f.val, "bands.hot", ps)
			line = max(line, f.line)
		default:
			ps.unknownKey(f.line, "bands: ", f.key, []string{"warm", "hot"})
		}
	}
	switch {
	case b.Warm <= 0:
		ps.errorf(line, "bands.warm must be more than 0 (it is %d): below it a lead is cold", b.Warm)
	case b.Hot <= b.Warm:
		ps.errorf(line, "bands.hot (%d) must be more than bands.warm (%d)", b.Hot, b.Warm)
	}
	return b
}
