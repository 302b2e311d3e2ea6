package scoring

import (
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/nurture/nurture/internal/problem"
)

var handoffKeys = []string{"reject_reasons", "routes", "webhook", "digest"}

var (
	reasonName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func parseHandoff(hf field, ps *problems) *Handoff {
	line := hf.line
	h := &Handoff{Line: line}
	if !isMap(hf, "handoff", "routes:", ps) {
		return h
	}
	fields := mapping(hf.val, "handoff: ", ps)
	for _, f := range fields {
		switch f.key {
		case "reject_reasons":
			h.RejectReasons = parseReasons(f.val, ps)
		case "routes":
			h.Routes = parseRoutes(f.val, ps)
		case "webhook":
			h.Webhook = parseWebhook(f, ps)
		case "digest":
			h.DigestSpec, h.Digest = parseDigest(f.val, ps)
		default:
			ps.unknownKey(f.line, "handoff: ", f.key, handoffKeys)
		}
	}
	if !hasKey(fields, "routes") {
		ps.errorf(line, "handoff needs routes: the owners each lead goes to, with a last route without if: for the rest")
	}
	if !hasKey(fields, "reject_reasons") {
		ps.errorf(line, "handoff needs reject_reasons: the reasons sales may give for rejecting a lead, such as [no_budget, bad_fit]")
	}
	return h
}

func parseReasons(n *yaml.Node, ps *problems) []string {
	if !isList(n, "handoff.reject_reasons must be a list, such as [no_budget, not_decision_maker, bad_fit]", ps) {
		return nil
	}
	var out []string
	for _, r := range n.Content {
		switch {
		case r.Kind != yaml.ScalarNode || !reasonName.MatchString(r.Value):
			ps.errorf(r.Line, "handoff.reject_reasons: %s is not a reason name: use lower-case letters, digits, _ and -", problem.Kind(r))
		case slices.Contains(out, r.Value):
			ps.errorf(r.Line, "handoff.reject_reasons: %s is listed twice", r.Value)
		default:
			out = append(out, r.Value)
		}
	}
	return out
}

func parseRoutes(n *yaml.Node, ps *problems) []Route {
	if !isList(n, "handoff.routes must be a list of routes, each with to: and all but the last with if:", ps) {
		return nil
	}
	var out []Route
	mapItems(n, "handoff route", "to: [sales@example.com]", ps, func(i int, item *yaml.Node, where string, fields []field) {
		rt := Route{Line: item.Line}
		var hasIf, hasTo bool
		for _, f := range fields {
			switch f.key {
			case "if":
				hasIf = true
				rt.If, _ = compileExpr(f.val, where+": if", nil, ps)
			case "to":
				hasTo = true
				rt.To = parseOwners(f.val, where, ps)
			default:
				ps.unknownKey(f.line, where+": ", f.key, []string{"if", "to"})
			}
		}
		if !hasTo {
			ps.errorf(item.Line, "%s needs to: the address of an owner, or a list of owners who take turns", where)
		}
		last := i == len(n.Content)-1
		switch {
		case !hasIf && !last:
			ps.errorf(item.Line, "%s has no if:, so it takes every lead and the routes after it are never used; move it to the end", where)
		case hasIf && last:
			ps.errorf(item.Line, "%s is the last and has an if:; end with a route without if: (the default team) so that every lead has an owner", where)
		}
		out = append(out, rt)
	})
	return out
}

func parseOwners(n *yaml.Node, where string, ps *problems) []string {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	if len(items) == 0 {
		ps.errorf(n.Line, "%s: to is an empty list", where)
		return nil
	}
	var out []string
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			ps.errorf(it.Line, "%s: to must be an address or a list of addresses", where)
			return nil
		}
		a, err := mail.ParseAddress(it.Value)
		if err != nil || a.Address != strings.TrimSpace(it.Value) {
			ps.errorf(it.Line, "%s: %q is not an email address", where, it.Value)
			return nil
		}
		if slices.Contains(out, a.Address) {
			ps.errorf(it.Line, "%s: %s is listed twice", where, a.Address)
			return nil
		}
		out = append(out, a.Address)
	}
	return out
}

func parseWebhook(wf field, ps *problems) *Webhook {
	line := wf.line
	if !isMap(wf, "handoff.webhook", "url: https://crm.example/hooks/nurture", ps) {
		return nil
	}
	w := &Webhook{Line: line}
	fields := mapping(wf.val, "handoff.webhook: ", ps)
	for _, f := range fields {
		switch f.key {
		case "url":
			u, err := url.Parse(f.val.Value)
			if f.val.Kind != yaml.ScalarNode || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				ps.errorf(f.val.Line, "handoff.webhook.url must be a web address starting with https://")
				continue
			}
			w.URL = u.String()
		case "secret":
			name, ok := strings.CutPrefix(strings.TrimSpace(f.val.Value), "env:")
			if f.val.Kind != yaml.ScalarNode || !ok || !envName.MatchString(name) {
				ps.errorf(f.val.Line, "handoff.webhook.secret must be env:NAME, the environment variable that holds the secret; a secret does not belong in this file")
				continue
			}
			w.SecretEnv = name
		default:
			ps.unknownKey(f.line, "handoff.webhook: ", f.key, []string{"url", "secret"})
		}
	}
	for _, key := range []string{"url", "secret"} {
		if !hasKey(fields, key) {
			ps.errorf(line, "handoff.webhook needs %s: (url: the address to post to, secret: env:NAME)", key)
		}
	}
	if w.URL == "" || w.SecretEnv == "" {
		return nil
	}
	return w
}

func parseDigest(n *yaml.Node, ps *problems) (string, cron.Schedule) {
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		ps.errorf(n.Line, `handoff.digest must be a cron expression in quotes, such as "0 8 * * 1-5" (08:00 on weekdays)`)
		return "", nil
	}
	s, err := cron.ParseStandard(n.Value)
	if err != nil {
		ps.errorf(n.Line, `handoff.digest: %q is not a cron expression (%v): write minute hour day month weekday, such as "0 8 * * 1-5"`, n.Value, err)
		return "", nil
	}
	return n.Value, s
}
