package mailer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// TLSMode says how a connection is secured.
type TLSMode int

const (
	// StartTLSOpportunistic upgrades with STARTTLS when the server offers
	// it and sends in the clear when it does not: smtp://.
	StartTLSOpportunistic TLSMode = iota
	// StartTLSRequired refuses to send unless STARTTLS succeeds:
	// smtp://…?starttls=required.
	StartTLSRequired
	// StartTLSOff never upgrades: smtp://…?starttls=off.
	StartTLSOff
	// ImplicitTLS speaks TLS from the first byte: smtps://.
	ImplicitTLS
)

func (m TLSMode) String() string {
	switch m {
	case StartTLSOpportunistic:
		return "starttls=opportunistic"
	case StartTLSRequired:
		return "starttls=required"
	case StartTLSOff:
		return "starttls=off"
	case ImplicitTLS:
		return "implicit TLS"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// Config is how to reach the SMTP server and how to sign and pace mail.
// ParseURL fills the connection fields; zero values elsewhere take the
// defaults.
type Config struct {
	Host     string
	Port     int
	Username string // AUTH only when set
	Password string
	TLS      TLSMode
	// TLSConfig overrides certificate checks, e.g. a private CA; the
	// server name defaults to Host.
	TLSConfig *tls.Config

	Conns     int           // SMTP connections at most, default 4
	Rate      float64       // messages per second at most over all connections; 0 = unlimited
	HelloName string        // EHLO name; default the machine's host name
	Timeout   time.Duration // per dial and per SMTP command, default 30s
	// ReplyTimeout is how long to wait for the reply after the message
	// data, default 10m (RFC 5321 4.5.3.2.6). Giving up sooner risks a
	// mail the server accepts after all and that is then sent again.
	ReplyTimeout time.Duration

	// DKIM signing is on when all three are set.
	DKIMDomain   string
	DKIMSelector string
	DKIMKeyPEM   []byte // RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8)
}

// String describes the server for logs, without the password.
func (c Config) String() string {
	scheme, query := "smtp", ""
	switch c.TLS {
	case ImplicitTLS:
		scheme = "smtps"
	case StartTLSRequired:
		query = "?starttls=required"
	case StartTLSOff:
		query = "?starttls=off"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	return u.String() + query
}

// ParseURL reads a NURTURE_SMTP_URL: smtp://[user:pass@]host:port with
// opportunistic STARTTLS, smtps://… for implicit TLS, and
// ?starttls=required or ?starttls=off to make STARTTLS mandatory or never
// tried. Errors never repeat the password.
func ParseURL(s string) (Config, error) {
	var c Config
	if s == "" {
		return c, urlErr("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, password included
		}
		return c, urlErr("not a URL: %v", err)
	}
	switch u.Scheme {
	case "smtp":
		c.TLS = StartTLSOpportunistic
	case "smtps":
		c.TLS = ImplicitTLS
	default:
		return c, urlErr("scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" {
		return c, urlErr("write it as %s://host:port", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, urlErr("host missing")
	}
	port := u.Port()
	if port == "" {
		return c, urlErr("port missing")
	}
	c.Port, err = strconv.Atoi(port)
	if err != nil || c.Port < 1 || c.Port > 65535 {
		return c, urlErr("port %q out of range", port)
	}
	if u.Path != "" && u.Path != "/" {
		return c, urlErr("unexpected path %q", u.Path)
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" || c.Password == "" {
			return c, urlErr("give both user and password, or neither")
		}
	}
	q := u.Query()
	for key := range q {
		if key != "starttls" {
			return c, urlErr("unknown parameter %q", key)
		}
	}
	if q.Has("starttls") {
		if c.TLS == ImplicitTLS {
			return c, urlErr("starttls does not apply to smtps, which is TLS from the start")
		}
		switch v := q.Get("starttls"); v {
		case "required":
			c.TLS = StartTLSRequired
		case "off":
			c.TLS = StartTLSOff
		case "opportunistic":
			c.TLS = StartTLSOpportunistic
		default:
			return c, urlErr("starttls must be required, off or opportunistic, not %q", v)
		}
	}
	return c, nil
}

func urlErr(format string, args ...any) error {
	return fmt.Errorf("mailer: NURTURE_SMTP_URL: "+format, args...)
}
