//go:build unix

package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startCluster starts (or joins) the throwaway cluster of this user and
// returns its URL. See the package comment.
func startCluster(ctx context.Context) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "pg")
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("nurture-pgtest-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := checkOwner(dir); err != nil {
		return "", err
	}

	// The shared lock on users.lock is held until the process exits, which
	// releases it however the process ends. A raw descriptor, since an
	// *os.File would close it when collected; close-on-exec keeps it out of
	// the server we start.
	lockPath := filepath.Join(dir, "users.lock")
	fd, err := syscall.Open(lockPath, syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", lockPath, err)
	}
	// Blocks while the watcher is stopping the cluster.
	for {
		err = syscall.Flock(fd, syscall.LOCK_SH)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return "", fmt.Errorf("lock %s: %w", lockPath, err)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script, "start", "--fast", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s start: %w\n%s", script, err, stderr.Bytes())
	}

	// The watcher outlives this process, in a session of its own so that
	// Ctrl-C on go test does not reach it. A second one exits at once.
	w := exec.Command("bash", script, "autostop", dir)
	w.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := w.Start(); err != nil {
		return "", fmt.Errorf("%s autostop: %w", script, err)
	}
	go w.Wait()

	return strings.TrimSpace(stdout.String()), nil
}

// checkOwner refuses a cluster folder that someone else planted in the
// shared temp folder. As root, scripts/pg hands the folder to postgres.
func checkOwner(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return fmt.Errorf("%s is not a folder", dir)
	}
	uid := os.Getuid()
	if int(st.Uid) == uid {
		return nil
	}
	if uid == 0 {
		if pg, err := user.Lookup("postgres"); err == nil && pg.Uid == strconv.Itoa(int(st.Uid)) {
			return nil
		}
	}
	return fmt.Errorf("%s belongs to uid %d, not to this user: remove it", dir, st.Uid)
}

// repoRoot walks up from the working folder (the package under test) to
// the folder holding go.mod and scripts/pg.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "scripts", "pg")); err != nil {
				return "", fmt.Errorf("no scripts/pg beside %s", filepath.Join(dir, "go.mod"))
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working folder")
		}
		dir = parent
	}
}

// processGone reports whether no process has the pid.
func processGone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
