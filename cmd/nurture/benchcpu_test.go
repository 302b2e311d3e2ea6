package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// CPU time holds where wall-clock rates do not: on a shared machine a
// benchmark's rate follows the neighbours' load, its CPU time per signup
// much less. cpuMeter reads the CPU time of this process (the server, the
// load's clients and the mail catcher all run in it) and of the Postgres
// cluster (the postmaster with every backend and worker).

const clockTick = 100 // USER_HZ, the unit of /proc/PID/stat's times on Linux

type cpuMeter struct{ postmaster int }

type cpuTime struct{ self, pg time.Duration }

// newCPUMeter finds the cluster's postmaster as the parent of one of db's
// backends. On systems without /proc the Postgres figure stays 0.
func newCPUMeter(b *testing.B, db *sqlx.DB) *cpuMeter {
	var pid int
	if err := db.GetContext(context.Background(), &pid, `SELECT pg_backend_pid()`); err != nil {
		b.Fatal(err)
	}
	st, ok := procStat(pid)
	if !ok {
		return &cpuMeter{}
	}
	return &cpuMeter{postmaster: st.ppid}
}

func (m *cpuMeter) now() cpuTime {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	t := cpuTime{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	if m.postmaster == 0 {
		return t
	}
	// The postmaster's own time, that of its children that have exited
	// (cutime, cstime), and that of those still running.
	if st, ok := procStat(m.postmaster); ok {
		t.pg += st.cpu + st.children
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.ppid == m.postmaster {
			t.pg += st.cpu
		}
	}
	return t
}

func (t cpuTime) sub(u cpuTime) cpuTime { return cpuTime{self: t.self - u.self, pg: t.pg - u.pg} }

type stat struct {
	ppid          int
	cpu, children time.Duration
}

// procStat reads /proc/PID/stat: field 4 is the parent, 14–17 utime,
// stime, cutime and cstime in clock ticks.
func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 15 {
		return stat{}, false
	}
	n := func(k int) int { v, _ := strconv.Atoi(f[k-3]); return v }
	tick := func(v int) time.Duration { return time.Duration(v) * time.Second / clockTick }
	return stat{ppid: n(4), cpu: tick(n(14) + n(15)), children: tick(n(16) + n(17))}, true
}
