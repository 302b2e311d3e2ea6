package tracking

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Link is one distinct address of a mail that the rewriting replaced. The
// server stores these with the message, and a click's token names the
// index; the redirect goes to URL from that record.
type Link struct {
	Index int    // from 0, in the order the addresses first appear: its place in the stored link set
	URL   string // as written in the mail
	Text  string // the link's text in the HTML part (an image's alt text), or the address itself
}

// Options say how to rewrite one message.
type Options struct {
	// Base is the server's public address, such as https://mail.example.com;
	// a trailing slash is ignored.
	Base string
	// Message is the id the tokens carry.
	Message int64
	// Signer makes the tokens.
	Signer *Signer
	// Keep lists address prefixes that are never rewritten, beside the
	// server's own addresses under Base, which are always kept: for
	// example an external preferences page.
	Keep []string
	// KeepFunc, when set, is asked about every other http(s) address and
	// returns true to leave it alone.
	KeepFunc func(u string) bool
}

// Mail is the two parts of a mail.
type Mail struct {
	HTML string
	Text string
}

// Result is a rewritten mail and the addresses it had.
type Result struct {
	Mail
	Links []Link
}

// Rewrite replaces every http(s) link of both parts with the click address
// Base/c/{token}, and adds the open pixel Base/o/{token} and a hidden
// honeypot link to the HTML part, at the end of its body. mailto: and other
// schemes stay as they are, as do addresses under Base (unsubscribe and
// confirmation links are the server's own) and those Keep or KeepFunc
// spare. The same address in both parts, or twice in one, is one link.
// Rewriting is deterministic: the same mail and options give the same bytes.
//
// The HTML is read with an HTML tokenizer and written back byte for byte,
// except the href of each rewritten link; links inside comments, such as
// Outlook's conditional ones, are left alone.
func Rewrite(m Mail, o Options) (Result, error) {
	if o.Signer == nil {
		return Result{}, errors.New("tracking: rewrite: no signer")
	}
	b, err := url.Parse(strings.TrimSuffix(o.Base, "/"))
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return Result{}, fmt.Errorf("tracking: rewrite: base %q is not an absolute http(s) address", o.Base)
	}
	rw := &rewriter{o: o, base: b.String(), index: map[string]int{}}
	var res Result
	if m.HTML != "" {
		if res.HTML, err = rw.html(m.HTML); err != nil {
			return Result{}, err
		}
	}
	res.Text = rw.text(m.Text)
	res.Links = rw.links
	return res, nil
}

type rewriter struct {
	o     Options
	base  string
	index map[string]int // address → Link.Index
	links []Link
}

// track reports whether u is to be rewritten.
func (rw *rewriter) track(u string) bool {
	lower := strings.ToLower(u)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	if p, err := url.Parse(u); err != nil || p.Host == "" {
		return false
	}
	if u == rw.base || strings.HasPrefix(u, rw.base+"/") || strings.HasPrefix(u, rw.base+"?") {
		return false
	}
	for _, k := range rw.o.Keep {
		if k != "" && strings.HasPrefix(u, k) {
			return false
		}
	}
	return rw.o.KeepFunc == nil || !rw.o.KeepFunc(u)
}

// click returns the click address for u, numbering u on first sight.
func (rw *rewriter) click(u, text string) string {
	i, ok := rw.index[u]
	if !ok {
		i = len(rw.links)
		rw.index[u] = i
		if text == "" {
			text = u
		}
		rw.links = append(rw.links, Link{Index: i, URL: u, Text: text})
	}
	return rw.base + "/c/" + rw.o.Signer.Click(rw.o.Message, i)
}

// html rewrites the HTML part. An <a> tag is held back until its end tag
// so that its text is known when the link is numbered.
func (rw *rewriter) html(src string) (string, error) {
	z := html.NewTokenizer(strings.NewReader(src))
	var out strings.Builder
	out.Grow(len(src) + len(src)/4 + 512)
	var pending *html.Token // the open <a> to rewrite
	var held strings.Builder
	var text strings.Builder
	wroteTail := false
	flush := func() {
		if pending == nil {
			return
		}
		for i, a := range pending.Attr {
			if a.Namespace == "" && a.Key == "href" {
				pending.Attr[i].Val = rw.click(strings.TrimSpace(a.Val), strings.Join(strings.Fields(text.String()), " "))
			}
		}
		out.WriteString(pending.String())
		out.WriteString(held.String())
		pending = nil
		held.Reset()
		text.Reset()
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != io.EOF {
				return "", fmt.Errorf("tracking: rewrite html: %w", err)
			}
			break
		}
		raw := string(z.Raw())
		tok := z.Token()
		switch {
		case tt == html.StartTagToken && tok.DataAtom == atom.A:
			flush() // an <a> inside an <a> closes the first
			if href, ok := attr(tok, "href"); ok && rw.track(strings.TrimSpace(href)) {
				t := tok
				pending = &t
				continue
			}
		case tt == html.SelfClosingTagToken && tok.DataAtom == atom.A && pending == nil:
			if href, ok := attr(tok, "href"); ok && rw.track(strings.TrimSpace(href)) {
				t := tok
				pending = &t
				flush()
				continue
			}
		case tt == html.EndTagToken && tok.DataAtom == atom.A && pending != nil:
			held.WriteString(raw)
			flush()
			continue
		case tt == html.EndTagToken && tok.DataAtom == atom.Body && !wroteTail:
			flush()
			out.WriteString(rw.tail())
			wroteTail = true
		}
		if pending != nil {
			held.WriteString(raw)
			switch {
			case tt == html.TextToken:
				text.WriteString(tok.Data)
			case tok.DataAtom == atom.Img && (tt == html.StartTagToken || tt == html.SelfClosingTagToken):
				alt, _ := attr(tok, "alt")
				text.WriteString(" " + alt + " ") // an image link's text is its alt text
			}
			continue
		}
		out.WriteString(raw)
	}
	flush()
	if !wroteTail {
		out.WriteString(rw.tail())
	}
	return out.String(), nil
}

// tail is the honeypot link and the open pixel. The honeypot has no text
// and is hidden from sight, screen readers and the tab order, so only a
// program that follows every address reaches it.
func (rw *rewriter) tail() string {
	hp := rw.base + "/c/" + rw.o.Signer.Honeypot(rw.o.Message)
	px := rw.base + "/o/" + rw.o.Signer.Open(rw.o.Message)
	return `<a href="` + html.EscapeString(hp) + `" style="display:none;font-size:0;line-height:0;max-height:0;overflow:hidden" aria-hidden="true" tabindex="-1"></a>` +
		`<img src="` + html.EscapeString(px) + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">`
}

func attr(t html.Token, key string) (string, bool) {
	for _, a := range t.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
