package tracking

import (
	"strings"
	"testing"
)

const base = "https://mail.example.com"

func opts() Options {
	return Options{Base: base + "/", Message: 42, Signer: testSigner()}
}

func click(i int) string { return base + "/c/" + testSigner().Click(42, i) }

func TestRewrite_HTMLLinksPixelAndHoneypot(t *testing.T) {
	in := `<!DOCTYPE html><html><head><style>a{color:red}</style></head><body>
<p>Read <a href="https://example.com/a?x=1&amp;y=2" class="btn">the <b>guide</b></a>.</p>
<p><a href="https://example.com/a?x=1&amp;y=2">again</a> <a href="HTTP://Example.com/B">B</a></p>
<p><a href="mailto:jonas@example.com">write</a> <a href="tel:+4930123">call</a> <a href="#top">top</a> <a>no href</a></p>
<p><a href="https://mail.example.com/unsubscribe/tok">unsubscribe</a> <a href="https://mail.example.com/confirm/tok">confirm</a></p>
<!--[if mso]><a href="https://example.com/vml">vml</a><![endif]-->
</body></html>`
	res, err := Rewrite(Mail{HTML: in}, opts())
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{0, "https://example.com/a?x=1&y=2", "the guide"},
		{1, "HTTP://Example.com/B", "B"},
	}
	if len(res.Links) != len(want) {
		t.Fatalf("links = %+v, want %+v", res.Links, want)
	}
	for i := range want {
		if res.Links[i] != want[i] {
			t.Errorf("link %d = %+v, want %+v", i, res.Links[i], want[i])
		}
	}
	for _, s := range []string{
		`<a href="` + click(0) + `" class="btn">the <b>guide</b></a>.`,
		`<a href="` + click(0) + `">again</a> <a href="` + click(1) + `">B</a>`,
		`<a href="mailto:jonas@example.com">write</a> <a href="tel:+4930123">call</a> <a href="#top">top</a> <a>no href</a>`,
		`<a href="https://mail.example.com/unsubscribe/tok">unsubscribe</a> <a href="https://mail.example.com/confirm/tok">confirm</a>`,
		`<!--[if mso]><a href="https://example.com/vml">vml</a><![endif]-->`,
		`<!DOCTYPE html><html><head><style>a{color:red}</style></head><body>`,
		`<a href="` + base + "/c/" + testSigner().Honeypot(42) + `" style="display:none;`,
		`<img src="` + base + "/o/" + testSigner().Open(42) + `" width="1" height="1" alt=""`,
	} {
		if !strings.Contains(res.HTML, s) {
			t.Errorf("HTML lacks %s\n%s", s, res.HTML)
		}
	}
	if i, j := strings.Index(res.HTML, "/o/"), strings.Index(res.HTML, "</body>"); i < 0 || i > j {
		t.Errorf("the pixel is not inside the body:\n%s", res.HTML)
	}
	if strings.Count(res.HTML, "/o/") != 1 || strings.Count(res.HTML, `aria-hidden="true" tabindex="-1"`) != 1 {
		t.Errorf("want one pixel and one honeypot:\n%s", res.HTML)
	}
}

func TestRewrite_Deterministic(t *testing.T) {
	m := Mail{HTML: `<p><a href="https://example.com/x">x</a></p>`, Text: "x: https://example.com/x\n"}
	a, err1 := Rewrite(m, opts())
	b, err2 := Rewrite(m, opts())
	if err1 != nil || err2 != nil || a.HTML != b.HTML || a.Text != b.Text {
		t.Fatalf("two rewrites differ:\n%+v\n%+v", a, b)
	}
}

func TestRewrite_FragmentWithoutBodyGetsPixelAtEnd(t *testing.T) {
	res, err := Rewrite(Mail{HTML: `<p><a href="https://example.com/x">x</a>`}, opts())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.HTML, `<p><a href="`+click(0)+`">x</a>`) || !strings.HasSuffix(res.HTML, `padding:0">`) {
		t.Errorf("got %s", res.HTML)
	}
}

func TestRewrite_UnclosedAnchorKeepsItsContent(t *testing.T) {
	res, err := Rewrite(Mail{HTML: `<body><a href="https://example.com/x">x <a href="https://example.com/y">y</body>`}, opts())
	if err != nil {
		t.Fatal(err)
	}
	want := `<body><a href="` + click(0) + `">x <a href="` + click(1) + `">y<a href=`
	if !strings.HasPrefix(res.HTML, want) || len(res.Links) != 2 || res.Links[0].Text != "x" {
		t.Errorf("got %s, links %+v", res.HTML, res.Links)
	}
}

func TestRewrite_SelfClosingAnchor(t *testing.T) {
	res, err := Rewrite(Mail{HTML: `<p><a href="https://example.com/x"/>x</p>`}, opts())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.HTML, `<p><a href="`+click(0)+`"/>x</p>`) || len(res.Links) != 1 {
		t.Errorf("got %s, links %+v", res.HTML, res.Links)
	}
}

func TestRewrite_ImageLinkTextIsItsAlt(t *testing.T) {
	res, err := Rewrite(Mail{HTML: `<a href="https://example.com/demo"><img src="https://example.com/b.png" alt="Book a demo"/></a><a href="https://example.com/x"><img src="y.png"></a>`}, opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Links) != 2 || res.Links[0].Text != "Book a demo" || res.Links[1].Text != "https://example.com/x" {
		t.Errorf("links = %+v", res.Links)
	}
	if !strings.Contains(res.HTML, `<img src="https://example.com/b.png" alt="Book a demo"/>`) {
		t.Errorf("the image was changed: %s", res.HTML)
	}
}

func FuzzRewrite(f *testing.F) {
	f.Add(`<body><a href="https://example.com/a">a</a></body>`, "see https://example.com/a.")
	f.Add(`<a href="https://x.example/(1)">`, "(https://x.example/(1))")
	f.Add(`<script>"<a href='https://e.example/'>"</script><a href=https://e.example/z>`, "")
	f.Fuzz(func(t *testing.T, h, txt string) {
		m := Mail{HTML: h, Text: txt}
		a, err1 := Rewrite(m, opts())
		b, err2 := Rewrite(m, opts())
		if err1 != nil || err2 != nil {
			t.Fatalf("errors %v %v", err1, err2)
		}
		if a.HTML != b.HTML || a.Text != b.Text || len(a.Links) != len(b.Links) {
			t.Fatal("not deterministic")
		}
		for i, l := range a.Links {
			if l.Index != i || l.URL == "" {
				t.Fatalf("link %d = %+v", i, l)
			}
		}
		if h != "" && strings.Count(a.HTML, "/o/"+testSigner().Open(42)) != 1 {
			t.Fatalf("want one pixel in %q", a.HTML)
		}
	})
}

func TestRewrite_KeepPrefixesAndFunc(t *testing.T) {
	o := opts()
	o.Keep = []string{"https://prefs.example.com/"}
	o.KeepFunc = func(u string) bool { return strings.Contains(u, "/optout") }
	in := `<a href="https://prefs.example.com/me">p</a><a href="https://example.com/optout?id=1">o</a><a href="https://example.com/ok">ok</a>`
	res, err := Rewrite(Mail{HTML: in, Text: "https://prefs.example.com/me https://example.com/optout https://example.com/ok"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Links) != 1 || res.Links[0].URL != "https://example.com/ok" {
		t.Fatalf("links = %+v", res.Links)
	}
	if want := "https://prefs.example.com/me https://example.com/optout " + click(0); res.Text != want {
		t.Errorf("text = %q, want %q", res.Text, want)
	}
}

func TestRewrite_TextPartSharesIndexesWithHTML(t *testing.T) {
	m := Mail{
		HTML: `<a href="https://example.com/a">A</a>`,
		Text: "A: https://example.com/a\nB: https://example.com/b\n",
	}
	res, err := Rewrite(m, opts())
	if err != nil {
		t.Fatal(err)
	}
	if want := "A: " + click(0) + "\nB: " + click(1) + "\n"; res.Text != want {
		t.Errorf("text = %q, want %q", res.Text, want)
	}
	if len(res.Links) != 2 || res.Links[1] != (Link{1, "https://example.com/b", "https://example.com/b"}) {
		t.Errorf("links = %+v", res.Links)
	}
}

func TestRewrite_TextPunctuationAndBrackets(t *testing.T) {
	tests := []struct{ in, url, rest string }{
		{"See https://example.com/x.", "https://example.com/x", "."},
		{"See https://example.com/x, then", "https://example.com/x", ", then"},
		{"(see https://example.com/x)", "https://example.com/x", ")"},
		{"(see https://example.com/x).", "https://example.com/x", ")."},
		{"https://en.wikipedia.org/wiki/Go_(language)", "https://en.wikipedia.org/wiki/Go_(language)", ""},
		{"(https://en.wikipedia.org/wiki/Go_(language))", "https://en.wikipedia.org/wiki/Go_(language)", ")"},
		{"<https://example.com/x>", "https://example.com/x", ">"},
		{`"https://example.com/x"`, "https://example.com/x", `"`},
		{"[https://example.com/x]", "https://example.com/x", "]"},
		{"Really? https://example.com/x?!", "https://example.com/x", "?!"},
		{"https://example.com/q?a=1&b=2;", "https://example.com/q?a=1&b=2", ";"},
		{"https://example.com/x\n", "https://example.com/x", "\n"},
		{"'https://example.com/x'", "https://example.com/x", "'"},
	}
	for _, tt := range tests {
		res, err := Rewrite(Mail{Text: tt.in}, opts())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Links) != 1 || res.Links[0].URL != tt.url {
			t.Errorf("%q: links = %+v, want %q", tt.in, res.Links, tt.url)
			continue
		}
		if !strings.HasSuffix(res.Text, click(0)+tt.rest) {
			t.Errorf("%q: text = %q, want it to end in the click address and %q", tt.in, res.Text, tt.rest)
		}
	}
}

func TestRewrite_TextLeavesOthers(t *testing.T) {
	in := "mailto:a@example.com xhttps://example.com ftp://example.com/x http:// https://mail.example.com/unsubscribe/t"
	res, err := Rewrite(Mail{Text: in}, opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != in || len(res.Links) != 0 {
		t.Errorf("text = %q, links %+v", res.Text, res.Links)
	}
}

func TestRewrite_BadOptions(t *testing.T) {
	for _, o := range []Options{
		{Base: "mail.example.com", Signer: testSigner()},
		{Base: "ftp://mail.example.com", Signer: testSigner()},
		{Base: base},
	} {
		if _, err := Rewrite(Mail{HTML: "<p>x</p>"}, o); err == nil {
			t.Errorf("Rewrite with %+v: no error", o)
		}
	}
}
