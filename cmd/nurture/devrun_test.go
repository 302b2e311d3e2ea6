package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/nurture/nurture/internal/logtest"
	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/porttest"
)

// asNurture makes this test binary act as bin/nurture, for scripts/run to
// start: the binary is main() either way, and this spares a build.
const asNurture = "NURTURE_TEST_AS_BINARY"

// The tests of scripts/run are the slowest here: their files' names sort
// early, so that go test starts them among the first of the parallel ones.
func TestMain(m *testing.M) {
	if os.Getenv(asNurture) == "1" {
		main()
		os.Exit(0)
	}
	prepareRunClusterEarly()
	code := pgtest.RunParallel(m, 8)
	removeRunCluster()
	os.Exit(code)
}

// devRun is scripts/run started as `make run` starts it, on ports and in a
// data folder of its own, so that it runs beside a developer's make run.
type devRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *logtest.Buffer
	done   chan struct{}
	err    error
}

// runEnv is the environment of a run in dir: this test binary as nurture,
// free ports, and none of the caller's NURTURE_ settings; dir gets a copy
// of an initialised cluster (seedRunCluster).
func runEnv(t *testing.T, dir string) (env []string, listen, smtp, web string) {
	seedRunCluster(t, dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NURTURE_") {
			env = append(env, kv)
		}
	}
	listen, smtp, web = porttest.FreeAddr(t), porttest.FreeAddr(t), porttest.FreeAddr(t)
	env = append(env, asNurture+"=1", "NURTURE_RUN_BIN="+self, "NURTURE_RUN_DIR="+dir,
		"NURTURE_LISTEN="+listen, "NURTURE_DEVMAIL_SMTP="+smtp, "NURTURE_DEVMAIL_HTTP="+web)
	return env, listen, smtp, web
}

// startRun starts scripts/run with args, which it passes to serve.
func startRun(t *testing.T, env []string, args ...string) *devRun {
	t.Helper()
	r := &devRun{t: t, stderr: &logtest.Buffer{}, done: make(chan struct{})}
	r.cmd = exec.Command("bash", append([]string{filepath.Join("..", "..", "scripts", "run")}, args...)...)
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.stderr, r.stderr
	// A process group of its own, as a terminal gives `make run`: Ctrl-C
	// is a SIGINT to the whole group.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
			return
		default:
		}
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(90 * time.Second):
			syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return r
}

// exit waits for the run to end and returns its exit status.
func (r *devRun) exit(timeout time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.t.Fatalf("scripts/run still runs after %v; it wrote:\n%s", timeout, r.stderr)
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.t.Fatalf("scripts/run was killed by %v; it wrote:\n%s", ws.Signal(), r.stderr)
		}
		return ee.ExitCode()
	}
	if r.err != nil {
		r.t.Fatal(r.err)
	}
	return 0
}

// waitReady waits until the server at addr answers /readyz with 200.
func (r *devRun) waitReady(addr string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a first run makes its cluster
	defer cancel()
	for ctx.Err() == nil {
		select {
		case <-r.done:
			r.t.Fatalf("scripts/run ended before the server was ready; it wrote:\n%s", r.stderr)
		default:
		}
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.t.Fatalf("no ready server at %s; scripts/run wrote:\n%s", addr, r.stderr)
}

func signupAt(t *testing.T, addr, email string) {
	t.Helper()
	body := fmt.Sprintf(`{"email": %q, "consent_text": "Yes, send me mail.", "consent_version": "v1"}`, email)
	res, err := http.Post("http://"+addr+"/api/v1/subscribe", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 202 {
		t.Fatalf("signup at %s: %d", addr, res.StatusCode)
	}
}

func TestRun_ASecondRunRefusesAndLeavesTheFirstAlone_CtrlCExits0(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1)")
	}
	t.Parallel()
	dir := t.TempDir()
	env, listen, _, web := runEnv(t, dir)
	first := startRun(t, env)
	first.waitReady(listen)
	signupAt(t, listen, "anna@example.com")

	second := startRun(t, env)
	if code := second.exit(time.Minute); code == 0 {
		t.Fatalf("the second run exited 0; it wrote:\n%s", second.stderr)
	}
	out := strings.TrimSpace(second.stderr.String())
	want := fmt.Sprintf("run: Nurture is already running in %s: sign-up page http://%s/subscribe, caught mail http://%s, API http://%s/api/v1", dir, listen, web, listen)
	if out != want {
		t.Fatalf("the second run said:\n%s\nwant the one line:\n%s", out, want)
	}
	// The first one is untouched: its database is there, signups work.
	first.waitReady(listen)
	signupAt(t, listen, "bert@example.com")

	// Ctrl-C: the run stops serve, the catcher and its cluster, and exits 0.
	syscall.Kill(-first.cmd.Process.Pid, syscall.SIGINT)
	if code := first.exit(2 * time.Minute); code != 0 {
		t.Fatalf("Ctrl-C: exit status %d; it wrote:\n%s", code, first.stderr)
	}
	if !strings.Contains(first.stderr.String(), "stopped cluster in "+filepath.Join(dir, "pg")) {
		t.Errorf("the cluster was not stopped:\n%s", first.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.urls")); !os.IsNotExist(err) {
		t.Errorf("run.urls left behind: %v", err)
	}

	// Once it has stopped, the next run starts, and SIGTERM ends it as
	// cleanly.
	third := startRun(t, env)
	third.waitReady(listen)
	third.cmd.Process.Signal(syscall.SIGTERM)
	if code := third.exit(2 * time.Minute); code != 0 {
		t.Fatalf("SIGTERM: exit status %d; it wrote:\n%s", code, third.stderr)
	}
}

// openPTY opens a pseudo-terminal: the master, and the terminal a process
// gets as its own.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Skipf("unlock pty: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Skipf("pty number: %v", errno)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// On a terminal, Ctrl-C goes to the whole foreground job, make included;
// make must still see the run's own exit status, 0, and report nothing.
func TestRun_CtrlCOnATerminalLeavesMake0(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1)")
	}
	t.Parallel()
	master, tty := openPTY(t)
	env, listen, _, _ := runEnv(t, t.TempDir())
	// -o build: this test binary is the nurture that runs.
	cmd := exec.Command("make", "--no-print-directory", "-o", "build", "run")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	out := &logtest.Buffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	r := &devRun{t: t, cmd: cmd, stderr: out, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			cmd.Process.Signal(syscall.SIGTERM) // make passes it on
			<-r.done
		}
	})
	r.waitReady(listen)
	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if code := r.exit(2 * time.Minute); code != 0 {
		t.Fatalf("make run after Ctrl-C: exit status %d; the terminal showed:\n%s", code, out)
	}
	if strings.Contains(out.String(), "make: ***") {
		t.Fatalf("make reported an error:\n%s", out)
	}
}
