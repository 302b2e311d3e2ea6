package mailer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

var when = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func sample() Message {
	return Message{
		From:                  "Acme News <news@acme.example>",
		To:                    "anna.schmidt@example.com",
		Subject:               "Willkommen, Anna – your e-book",
		HTML:                  "<html><head><title>x</title></head><body><p>Hello <b>Anna</b></p><a href=\"https://acme.example/e\">Read</a></body></html>",
		Text:                  "Hello Anna\n\nRead: https://acme.example/e\n",
		MessageID:             "<k3j2h4k5j6h7@acme.example>",
		Date:                  when,
		ListUnsubscribeURL:    "https://acme.example/unsubscribe/tok123",
		ListUnsubscribeMailto: "mailto:unsubscribe@acme.example?subject=unsubscribe%20tok123",
		Headers:               map[string]string{"X-Campaign": "ebook-welcome", "x-nurture-step": "01"},
	}
}

func mustCompose(t *testing.T, c *Composer, m Message) []byte {
	t.Helper()
	raw, err := c.Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestCompose_WritesHeadersAndAlternativeParts(t *testing.T) {
	raw := mustCompose(t, &Composer{}, sample())
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	want := map[string]string{
		"Message-Id":            "<k3j2h4k5j6h7@acme.example>",
		"Date":                  "Mon, 02 Nov 2026 09:30:00 +0000",
		"To":                    "<anna.schmidt@example.com>",
		"From":                  `"Acme News" <news@acme.example>`,
		"Mime-Version":          "1.0",
		"List-Unsubscribe":      "<https://acme.example/unsubscribe/tok123>, <mailto:unsubscribe@acme.example?subject=unsubscribe%20tok123>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"X-Campaign":            "ebook-welcome",
		"X-Nurture-Step":        "01",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if subject != "Willkommen, Anna – your e-book" {
		t.Errorf("subject %q", subject)
	}
	if h.Get("User-Agent") != "" || h.Get("X-Mailer") != "" {
		t.Error("mail names the library that wrote it")
	}

	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" || params["boundary"] != boundary("k3j2h4k5j6h7@acme.example") {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, string(b))
	}
	if !slices.Equal(types, []string{"text/plain; charset=UTF-8", "text/html; charset=UTF-8"}) {
		t.Fatalf("parts %q", types)
	}
	if bodies[0] != "Hello Anna\r\n\r\nRead: https://acme.example/e\r\n" {
		t.Errorf("text part %q", bodies[0])
	}
	// The layout already holds the preheader; Compose adds nothing to the HTML.
	if want := sample().HTML; bodies[1] != want {
		t.Errorf("html part %q, want it as given: %q", bodies[1], want)
	}
}

func TestCompose_SameMessageSameBytes(t *testing.T) {
	c := dkimComposer(t, rsaKeyPEM(t))
	first := mustCompose(t, c, sample())
	for range 20 {
		if again := mustCompose(t, c, sample()); !bytes.Equal(first, again) {
			t.Fatalf("Compose differs between calls:\n%s\n---\n%s", first, again)
		}
	}
	other := sample()
	other.MessageID = "<other@acme.example>"
	if bytes.Contains(mustCompose(t, c, other), []byte(boundary("k3j2h4k5j6h7@acme.example"))) {
		t.Fatal("the boundary does not follow the Message-ID")
	}
}

func TestCompose_SinglePartAndOptionalUnsubscribe(t *testing.T) {
	tests := map[string]struct {
		edit            func(*Message)
		wantType        string
		wantUnsubscribe string
		wantPost        string
	}{
		"text only, no unsubscribe": {
			func(m *Message) { m.HTML, m.ListUnsubscribeURL, m.ListUnsubscribeMailto = "", "", "" },
			"text/plain; charset=UTF-8", "", "",
		},
		"html only, mailto only as bare address": {
			func(m *Message) { m.Text, m.ListUnsubscribeURL, m.ListUnsubscribeMailto = "", "", "unsub@acme.example" },
			"text/html; charset=UTF-8", "<mailto:unsub@acme.example>", "",
		},
		"http link in development": {
			func(m *Message) {
				m.ListUnsubscribeURL, m.ListUnsubscribeMailto = "http://127.0.0.1:8080/unsubscribe/t", ""
			},
			"multipart/alternative", "<http://127.0.0.1:8080/unsubscribe/t>", "List-Unsubscribe=One-Click",
		},
	}
	for name, tt := range tests {
		m := sample()
		tt.edit(&m)
		msg, err := mail.ReadMessage(bytes.NewReader(mustCompose(t, &Composer{}, m)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if got := msg.Header.Get("List-Unsubscribe"); got != tt.wantUnsubscribe {
			t.Errorf("%s: List-Unsubscribe %q", name, got)
		}
		if got := msg.Header.Get("List-Unsubscribe-Post"); got != tt.wantPost {
			t.Errorf("%s: List-Unsubscribe-Post %q", name, got)
		}
	}
}

func TestCompose_RefusesHeaderInjectionAndBadInput(t *testing.T) {
	tests := map[string]struct {
		edit    func(*Message)
		wantBad bool // ErrBadHeader rather than another error
	}{
		"LF in subject":            {func(m *Message) { m.Subject = "Hi\nBcc: victim@example.com" }, true},
		"CR in subject":            {func(m *Message) { m.Subject = "Hi\rthere" }, true},
		"CRLF in To":               {func(m *Message) { m.To = "a@example.com\r\nBcc: b@example.com" }, true},
		"LF in From":               {func(m *Message) { m.From = "Acme\n <news@acme.example>" }, true},
		"LF in extra header value": {func(m *Message) { m.Headers = map[string]string{"X-Campaign": "a\nb"} }, true},
		"colon in header name":     {func(m *Message) { m.Headers = map[string]string{"X-A: b": "c"} }, true},
		"space in header name":     {func(m *Message) { m.Headers = map[string]string{"X A": "c"} }, true},
		"reserved header":          {func(m *Message) { m.Headers = map[string]string{"subject": "other"} }, true},
		"header given twice":       {func(m *Message) { m.Headers = map[string]string{"X-A": "1", "x-a": "2"} }, true},
		"LF in unsubscribe URL":    {func(m *Message) { m.ListUnsubscribeURL = "https://acme.example/u\n" }, true},
		"javascript unsubscribe":   {func(m *Message) { m.ListUnsubscribeURL = "javascript:alert(1)" }, true},
		"bracket in unsubscribe":   {func(m *Message) { m.ListUnsubscribeURL = "https://acme.example/u>, <https://evil.example" }, true},
		"mailto without address":   {func(m *Message) { m.ListUnsubscribeMailto = "mailto:nobody" }, true},
		"LF in Message-ID":         {func(m *Message) { m.MessageID = "<a@b\n>" }, true},
		"Message-ID without @":     {func(m *Message) { m.MessageID = "<abc>" }, true},
		"Message-ID missing":       {func(m *Message) { m.MessageID = "" }, true},
		"Date missing":             {func(m *Message) { m.Date = time.Time{} }, false},
		"no body":                  {func(m *Message) { m.HTML, m.Text = "", "" }, false},
		"To not an address":        {func(m *Message) { m.To = "anna" }, false},
	}
	for name, tt := range tests {
		m := sample()
		tt.edit(&m)
		raw, err := (&Composer{}).Compose(m)
		if err == nil {
			t.Errorf("%s: composed\n%s", name, raw)
			continue
		}
		if errors.Is(err, ErrBadHeader) != tt.wantBad || !strings.HasPrefix(err.Error(), "mailer: compose: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func rsaKeyPEM(t *testing.T) (pemBytes []byte) {
	t.Helper()
	rsaOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	})
	return rsaPEM
}

var (
	rsaOnce sync.Once
	rsaPEM  []byte
)

func ed25519KeyPEM(t *testing.T) []byte {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func dkimComposer(t *testing.T, keyPEM []byte) *Composer {
	t.Helper()
	c, err := NewComposer(Config{DKIMDomain: "acme.example", DKIMSelector: "nurture", DKIMKeyPEM: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyDKIM checks raw's signature against the key in keyPEM, as a
// receiving server would after looking up nurture._domainkey.acme.example.
func verifyDKIM(t *testing.T, raw, keyPEM []byte) *dkim.Verification {
	t.Helper()
	block, _ := pem.Decode(keyPEM)
	var pub any
	if block.Type == "RSA PRIVATE KEY" {
		k, _ := x509.ParsePKCS1PrivateKey(block.Bytes)
		pub = &k.PublicKey
	} else {
		k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
		pub = k.(ed25519.PrivateKey).Public()
	}
	var record string
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		der, _ := x509.MarshalPKIXPublicKey(pub)
		record = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		record = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "nurture._domainkey.acme.example" {
				return nil, errors.New("no such record " + domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifications) != 1 {
		t.Fatalf("%d DKIM signatures", len(verifications))
	}
	v := verifications[0]
	if v.Err != nil {
		t.Fatalf("DKIM signature does not verify: %v\n%s", v.Err, raw)
	}
	return v
}

func TestCompose_DKIMSignatureVerifiesAndCoversUnsubscribe(t *testing.T) {
	for name, keyPEM := range map[string][]byte{"rsa": rsaKeyPEM(t), "ed25519": ed25519KeyPEM(t)} {
		t.Run(name, func(t *testing.T) {
			raw := mustCompose(t, dkimComposer(t, keyPEM), sample())
			if !bytes.HasPrefix(raw, []byte("DKIM-Signature: ")) {
				t.Fatalf("no signature first:\n%s", raw)
			}
			v := verifyDKIM(t, raw, keyPEM)
			if v.Domain != "acme.example" {
				t.Errorf("domain %q", v.Domain)
			}
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
				if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
					t.Errorf("%s not signed; signed: %v", h, v.HeaderKeys)
				}
			}
			if !regexp.MustCompile(`t=1793611800;`).Match(raw) {
				t.Error("signature time is not the message Date")
			}
			tampered := bytes.Replace(raw, []byte("tok123>,"), []byte("tok124>,"), 1)
			if vs, _ := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{
				LookupTXT: func(string) ([]string, error) { return nil, errors.New("unused") },
			}); len(vs) != 1 || vs[0].Err == nil {
				t.Error("a changed List-Unsubscribe still verifies")
			}
		})
	}
}

func TestNewComposer_RefusesHalfDKIMAndBadKeys(t *testing.T) {
	tests := map[string]Config{
		"domain only":       {DKIMDomain: "acme.example"},
		"no key":            {DKIMDomain: "acme.example", DKIMSelector: "s"},
		"key not PEM":       {DKIMDomain: "acme.example", DKIMSelector: "s", DKIMKeyPEM: []byte("not a key")},
		"public key as key": {DKIMDomain: "acme.example", DKIMSelector: "s", DKIMKeyPEM: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")},
	}
	for name, cfg := range tests {
		if _, err := NewComposer(cfg); err == nil || !strings.Contains(err.Error(), "DKIM") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewMessageID_UnguessableAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewMessageID("acme.example")
		if !regexp.MustCompile(`^<[a-z2-7]{32}@acme\.example>$`).MatchString(id) {
			t.Fatalf("malformed %q", id)
		}
		if seen[id] {
			t.Fatalf("repeated %q", id)
		}
		seen[id] = true
	}
	if id := NewMessageID(""); !strings.HasSuffix(id, "@localhost>") {
		t.Errorf("no domain: %q", id)
	}
}

func TestCompose_FoldsLongHeadersAndKeepsTheirValues(t *testing.T) {
	c, _ := NewComposer(Config{})
	for _, subject := range []string{
		"A plain subject that is rather long and goes well past the seventy-eight characters of a line",
		"Willkommen, Anna – ein Betreff, der länger ist als eine Zeile und deshalb gefaltet werden muss",
	} {
		m := sample()
		m.Subject = subject
		raw := mustCompose(t, c, m)
		head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		for line := range strings.SplitSeq(string(head), "\r\n") {
			if len(line) > 78 {
				t.Errorf("header line of %d characters: %q", len(line), line)
			}
			if strings.TrimSpace(line) == "" {
				t.Errorf("blank folded line in %q", head)
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Errorf("subject %q (%v), want %q", got, err, subject)
		}
	}
}
