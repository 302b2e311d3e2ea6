package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func source(m map[string]string) Source { return func(n string) string { return m[n] } }

func valid() map[string]string {
	return map[string]string{
		"NURTURE_DATABASE_URL": "postgres://localhost/nurture",
		"NURTURE_SMTP_URL":     "smtp://127.0.0.1:1025",
		"NURTURE_BASE_URL":     "https://news.example.com/",
		"NURTURE_SECRET":       strings.Repeat("s", 32),
		"NURTURE_FROM":         "Acme <news@acme.example>",
		"NURTURE_ADMIN_TOKEN":  "0123456789abcdef",
	}
}

func TestLoad_DefaultsApply(t *testing.T) {
	c, err := Load(source(valid()), ServeNeeds...)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Tick != 5*time.Second || c.ConfirmTTL != 72*time.Hour || c.Campaigns != "./campaigns" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.BaseURL.String() != "https://news.example.com" {
		t.Errorf("base URL keeps trailing slash: %s", c.BaseURL)
	}
	if c.UnsubscribeMailto != "news@acme.example" {
		t.Errorf("unsubscribe mailto = %q", c.UnsubscribeMailto)
	}
}

func TestLoad_ErrorNamesTheSetting(t *testing.T) {
	tests := []struct {
		key, value, want string
	}{
		{"NURTURE_DATABASE_URL", "", "config: NURTURE_DATABASE_URL: is required"},
		{"NURTURE_SECRET", "short", "config: NURTURE_SECRET: must be at least 32 bytes, got 5"},
		{"NURTURE_BASE_URL", "news.example.com", `config: NURTURE_BASE_URL: "news.example.com" is not an absolute http(s) URL`},
		{"NURTURE_TICK", "soon", `config: NURTURE_TICK: "soon" is not a positive duration such as 5s or 72h`},
		{"NURTURE_LISTEN", "8080", `config: NURTURE_LISTEN: "8080" is not host:port`},
		{"NURTURE_TRUSTED_PROXIES", "10.0.0.0/8, nope", `config: NURTURE_TRUSTED_PROXIES: "nope" is not a CIDR such as 10.0.0.0/8`},
		{"NURTURE_FROM", "no address", "config: NURTURE_FROM: \"no address\" is not an address like `Acme <news@acme.example>`"},
		{"NURTURE_DEFAULT_TIMEZONE", "Mars/Base", `config: NURTURE_DEFAULT_TIMEZONE: "Mars/Base" is not an IANA time zone such as Europe/Berlin`},
		{"NURTURE_RATE_IP", "-1", `config: NURTURE_RATE_IP: "-1" is not a whole number ≥ 0`},
		{"NURTURE_POSTAL_ADDRESS", "Acme GmbH\nHafenstraße 1", "config: NURTURE_POSTAL_ADDRESS: write it on one line, such as `Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany`"},
		{"NURTURE_DATABASE_URL", "postgres://nurture:s3cretpw@db.internal:x5432/nurture", `config: NURTURE_DATABASE_URL: not a valid URL: invalid port ":x5432" after host`},
		{"NURTURE_DATABASE_URL", "postgres://nurture:s3cr/etpw@db.internal/nurture", "config: NURTURE_DATABASE_URL: the password cannot be read; write characters such as / ? # @ % in it %-escaped"},
		{"NURTURE_DATABASE_URL", "host=db.internal password=s3cretpw sslmode=sometimes", `config: NURTURE_DATABASE_URL: wrong value for "sslmode": "sometimes" is not supported; supported values are disable, allow, prefer, require, verify-full, or verify-ca`},
		{"NURTURE_DATABASE_URL", "mysql://nurture:s3cretpw@db.internal/nurture", "config: NURTURE_DATABASE_URL: a URL must start with postgres:// or postgresql://"},
		{"NURTURE_SMTP_URL", "smtp://mail.acme.example", "config: NURTURE_SMTP_URL: port missing"},
		{"NURTURE_SMTP_URL", "smtp://news:s3cretpw@mail.acme.example:587?tls=yes", `config: NURTURE_SMTP_URL: unknown parameter "tls"`},
		{"NURTURE_SMTP_URL", "http://mail.acme.example:25", `config: NURTURE_SMTP_URL: scheme must be smtp or smtps, not "http"`},
		{"NURTURE_BASE_URL", "https://news.example.com/?utm=x", `config: NURTURE_BASE_URL: "https://news.example.com/?utm=x" must not have a query or fragment`},
		{"NURTURE_BASE_URL", "https://news.example.com?", `config: NURTURE_BASE_URL: "https://news.example.com?" must not have a query or fragment`},
		{"NURTURE_BASE_URL", "https://news.example.com/#top", `config: NURTURE_BASE_URL: "https://news.example.com/#top" must not have a query or fragment`},
		{"NURTURE_CAMPAIGNS", "./no-such-campaigns", `config: NURTURE_CAMPAIGNS: folder "./no-such-campaigns" does not exist`},
		{"NURTURE_CAMPAIGNS", "config.go", `config: NURTURE_CAMPAIGNS: "config.go" is not a folder`},
		{"NURTURE_REDIRECT_HOSTS", "www.acme.example, https://shop.acme.example", `config: NURTURE_REDIRECT_HOSTS: "https://shop.acme.example" is not a host such as www.acme.example`},
		{"NURTURE_REDIRECT_HOSTS", "www.acme.example/thanks", `config: NURTURE_REDIRECT_HOSTS: "www.acme.example/thanks" is not a host such as www.acme.example`},
		{"NURTURE_REDIRECT_HOSTS", "www.acme.example:", `config: NURTURE_REDIRECT_HOSTS: "www.acme.example:" is not a host such as www.acme.example`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			m := valid()
			m[tt.key] = tt.value
			_, err := Load(source(m), ServeNeeds...)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr") || strings.Contains(err.Error(), "etpw") {
				t.Fatalf("the error holds the password: %v", err)
			}
		})
	}
}

func TestLoad_ParsesTheSMTPURL(t *testing.T) {
	m := valid()
	m["NURTURE_SMTP_URL"] = "smtp://news:s3cretpw@mail.acme.example:587?starttls=required"
	c, err := Load(source(m), ServeNeeds...)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Host != "mail.acme.example" || c.SMTP.Port != 587 || c.SMTP.Username != "news" || c.SMTP.Password != "s3cretpw" || c.SMTP.TLS.String() != "starttls=required" {
		t.Errorf("SMTP %+v", c.SMTP)
	}
}

// The default campaigns folder may be missing (serve warns and runs no
// sequences); one named on purpose must exist.
func TestLoad_DefaultCampaignsFolderMayBeMissing(t *testing.T) {
	if _, err := os.Stat("campaigns"); err == nil {
		t.Fatal("this test needs a working directory without ./campaigns")
	}
	c, err := Load(source(valid()), ServeNeeds...)
	if err != nil || c.Campaigns != "./campaigns" {
		t.Fatalf("campaigns %q, %v", c.Campaigns, err)
	}
	m := valid()
	m["NURTURE_CAMPAIGNS"] = t.TempDir()
	if _, err := Load(source(m), ServeNeeds...); err != nil {
		t.Fatal(err)
	}
}

func TestLoad_RedirectHosts(t *testing.T) {
	m := valid()
	m["NURTURE_REDIRECT_HOSTS"] = " WWW.acme.example, shop.acme.example:8443,,[2001:db8::1]:8080 "
	c, err := Load(source(m), ServeNeeds...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"www.acme.example", "shop.acme.example:8443", "[2001:db8::1]:8080"}; !slices.Equal(c.RedirectHosts, want) {
		t.Errorf("redirect hosts %q, want %q", c.RedirectHosts, want)
	}
}

func TestLoad_OnlyNeededSettingsAreRequired(t *testing.T) {
	if _, err := Load(source(map[string]string{"NURTURE_DATABASE_URL": "postgres://x"}), "NURTURE_DATABASE_URL"); err != nil {
		t.Fatal(err)
	}
}

func TestFromEnv_FileUnderEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nurture.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:9999\ntick: 2s\n"), 0o600)
	t.Setenv("NURTURE_CONFIG", path)
	t.Setenv("NURTURE_TICK", "3s")
	get, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if get("NURTURE_LISTEN") != "127.0.0.1:9999" || get("NURTURE_TICK") != "3s" {
		t.Errorf("listen=%q tick=%q", get("NURTURE_LISTEN"), get("NURTURE_TICK"))
	}
}

func TestFromEnv_UnknownFileKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nurture.yaml")
	os.WriteFile(path, []byte("lisen: 127.0.0.1:9999\n"), 0o600)
	t.Setenv("NURTURE_CONFIG", path)
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), `unknown setting "lisen"`) {
		t.Fatalf("got %v", err)
	}
}

func TestREADME_DocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		if !strings.Contains(string(readme), "| `"+s.Name+"` |") {
			t.Errorf("README.md's configuration table lacks %s", s.Name)
		}
	}
}

// The bounded durations: each default, a value that holds, and values
// refused with the setting's name.
func TestLoad_BoundedDurations(t *testing.T) {
	tests := []struct {
		name    string
		got     func(*Config) time.Duration
		def     time.Duration
		set     string
		want    time.Duration
		refused []string
	}{
		{"NURTURE_SMTP_REPLY_TIMEOUT", func(c *Config) time.Duration { return c.SMTPReplyTimeout }, 10 * time.Minute, "2m", 2 * time.Minute, []string{"10ms"}},
		{"NURTURE_BURST_WINDOW", func(c *Config) time.Duration { return c.BurstWindow }, 1500 * time.Millisecond, "800ms", 800 * time.Millisecond, []string{"2m", "0s", "soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := func(env map[string]string) time.Duration {
				t.Helper()
				c, err := Load(source(env), ServeNeeds...)
				if err != nil {
					t.Fatal(err)
				}
				return tt.got(c)
			}
			if got := load(valid()); got != tt.def {
				t.Fatalf("default %v, want %v", got, tt.def)
			}
			env := valid()
			env[tt.name] = tt.set
			if got := load(env); got != tt.want {
				t.Fatalf("%s: %v, want %v", tt.set, got, tt.want)
			}
			for _, bad := range tt.refused {
				env[tt.name] = bad
				if _, err := Load(source(env), ServeNeeds...); err == nil || !strings.Contains(err.Error(), tt.name) {
					t.Errorf("%q accepted or error without the setting's name: %v", bad, err)
				}
			}
		})
	}
}
