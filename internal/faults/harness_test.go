//go:build faults

package faults

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/porttest"
)

// suite is what TestMain sets up once: the binary under test and the
// private cluster every test's database lives in.
var suite struct {
	root  string // the module's folder
	bin   string // nurture
	pgDir string // the private cluster's folder, for scripts/pg
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(filepath.Dir(suite.pgDir))
	defer pgScript("stop")
	return m.Run()
}

func setup() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	suite.root = filepath.Dir(filepath.Dir(wd)) // internal/faults
	tmp, err := os.MkdirTemp("", "nurture-faults-")
	if err != nil {
		return err
	}
	suite.pgDir = filepath.Join(tmp, "pg")
	suite.bin = os.Getenv("NURTURE_BIN")
	if suite.bin == "" {
		suite.bin = filepath.Join(tmp, "nurture")
		build := exec.Command("go", "build", "-o", suite.bin, "./cmd/nurture")
		build.Dir, build.Stderr = suite.root, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	// A cluster of its own, since the tests restart and stop it; every
	// test clones its database from pgtest's template there.
	url, err := pgScript("start", "--fast")
	if err != nil {
		return err
	}
	return os.Setenv(pgtest.EnvURL, url)
}

// pgScript runs scripts/pg CMD [ARGS] DIR on the private cluster and
// returns what it printed.
func pgScript(cmd string, args ...string) (string, error) {
	args = append(append([]string{filepath.Join(suite.root, "scripts", "pg"), cmd}, args...), suite.pgDir)
	c := exec.Command("bash", args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("scripts/pg %s: %w\n%s", cmd, err, errOut.Bytes())
	}
	return strings.TrimSpace(out.String()), nil
}

// node is one `nurture serve` process.
type node struct {
	t    *testing.T
	name string
	base string
	cmd  *exec.Cmd
	log  *lineLog
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// nodeEnv is what every node gets; a test adds or overrides settings.
func nodeEnv(dbURL, smtpAddr, campaigns string) map[string]string {
	return map[string]string{
		"NURTURE_DATABASE_URL":   dbURL,
		"NURTURE_SMTP_URL":       "smtp://" + smtpAddr,
		"NURTURE_SECRET":         strings.Repeat("k", 32),
		"NURTURE_FROM":           "Acme News <news@acme.example>",
		"NURTURE_POSTAL_ADDRESS": "Acme GmbH · Hafenstraße 1 · 20457 Hamburg · Germany",
		"NURTURE_ADMIN_TOKEN":    adminToken,
		"NURTURE_CAMPAIGNS":      campaigns,
		"NURTURE_TICK":           "100ms",
		"NURTURE_RATE_IP":        "0",
		"NURTURE_RATE_EMAIL":     "0",
	}
}

const adminToken = "faults-admin-token-0123456789"

// startNode starts `nurture serve` with env and waits until /readyz
// answers 200. The process is killed when the test ends, if it still runs.
func startNode(t *testing.T, name string, env map[string]string) *node {
	t.Helper()
	addr := porttest.FreeAddr(t)
	n := &node{t: t, name: name, base: "http://" + addr, log: &lineLog{}, done: make(chan struct{})}
	n.cmd = exec.Command(suite.bin, "serve")
	n.cmd.Env = append(baseEnv(), "NURTURE_LISTEN="+addr, "NURTURE_BASE_URL="+n.base)
	for k, v := range env {
		n.cmd.Env = append(n.cmd.Env, k+"="+v)
	}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() { n.err = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		<-n.done
		if t.Failed() || testing.Verbose() {
			t.Logf("%s: last log lines:\n%s", name, n.log.tail(40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-n.done:
			t.Fatalf("%s exited at start (%v):\n%s", name, n.err, n.log.tail(20))
		default:
		}
		if res, err := http.Get(n.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30 s:\n%s", name, n.log.tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// baseEnv is the test's environment without any Nurture setting.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NURTURE_") {
			env = append(env, kv)
		}
	}
	return env
}

// kill ends the process with SIGKILL and waits for it.
func (n *node) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// stop sends SIGTERM and returns how long the process took to exit. A
// process still running after limit is killed, as a supervisor would, and
// stop reports false.
func (n *node) stop(limit time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return time.Since(t0), true
	case <-time.After(limit):
		n.kill()
		return time.Since(t0), false
	}
}

// lineLog keeps a process's output, line by line, with the time each
// line came.
type lineLog struct {
	mu    sync.Mutex
	part  []byte
	lines []logLine
}

type logLine struct {
	at   time.Time
	text string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	rest := l.part
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, logLine{time.Now(), string(rest[:i])})
		rest = rest[i+1:]
	}
	l.part = append(l.part[:0], rest...)
	return len(p), nil
}

// between returns the lines that came in [from, to).
func (l *lineLog) between(from, to time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ln := range l.lines {
		if !ln.at.Before(from) && ln.at.Before(to) {
			out = append(out, ln.text)
		}
	}
	return out
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, ln := range l.lines[max(0, len(l.lines)-n):] {
		b.WriteString(ln.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// eventually polls cond every 20 ms until it holds or limit passes, and
// reports whether it held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// post sends a JSON body and returns the response's status and headers.
func post(c *http.Client, url, body string) (*http.Response, error) {
	res, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}
