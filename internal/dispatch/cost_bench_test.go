package dispatch_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// cost is what a stretch of work cost: CPU of this process, and of the
// Postgres server, and the allocations of this process.
type cost struct {
	cpu, pg       time.Duration
	allocs, bytes uint64
}

// meter reads the costs so far; a stretch's cost is the difference of two
// readings.
type meter struct {
	postmaster int // 0 when the server's processes cannot be read
}

func newMeter(b *testing.B, db *sqlx.DB) *meter {
	var dir string
	if err := db.Get(&dir, `SHOW data_directory`); err != nil {
		b.Logf("Postgres CPU not measured: %v", err)
		return &meter{}
	}
	pid, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		b.Logf("Postgres CPU not measured: %v", err)
		return &meter{}
	}
	first, _, _ := strings.Cut(string(pid), "\n")
	n, _ := strconv.Atoi(strings.TrimSpace(first))
	return &meter{postmaster: n}
}

func (m *meter) read() cost {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return cost{
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		pg:     m.serverCPU(),
		allocs: ms.Mallocs, bytes: ms.TotalAlloc,
	}
}

// serverCPU is the CPU the Postgres server used so far: the postmaster's,
// that of the children it reaped, and that of the ones alive.
func (m *meter) serverCPU() time.Duration {
	if m.postmaster == 0 {
		return 0
	}
	ticks := int64(0)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(st), ')')
		f := strings.Fields(string(st[i+1:])) // f[0] is field 3, the state
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != m.postmaster && ppid != m.postmaster {
			continue
		}
		last := 12 // utime, stime
		if pid == m.postmaster {
			last = 14 // and the reaped children's cutime, cstime
		}
		for _, v := range f[11:last] {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

func (c cost) minus(o cost) cost {
	return cost{cpu: c.cpu - o.cpu, pg: c.pg - o.pg, allocs: c.allocs - o.allocs, bytes: c.bytes - o.bytes}
}

// BenchmarkDispatchCost measures what the pipeline costs per mail, as
// BenchmarkDispatchThroughput runs it, beside the raw loop into the same
// catcher: CPU time of this process (the in-process catcher included, in
// both), of the Postgres server, and allocations. Unlike rates, these
// hold on a machine busy with other work. pipeline-extra-µs/mail is the
// pipeline's CPU beyond the raw loop's: what it costs over the wire.
func BenchmarkDispatchCost(b *testing.B) {
	ctx := context.Background()
	g := newBenchRig(b)
	m := newMeter(b, g.db)
	var pipes, raws []cost
	for range b.N {
		for range benchRounds() {
			b.StopTimer()
			disp, relay, pool := g.start(b)
			runtime.GC()
			b.StartTimer()
			before := m.read()
			// Labelled, so that a CPU profile tells the pipeline's goroutines
			// (which inherit the label) from the catcher's and the runtime's.
			pprof.Do(ctx, pprof.Labels("stage", "pipeline"), func(ctx context.Context) { pipeline(b, ctx, disp, relay) })
			pipe := m.read().minus(before)
			g.caught(b, "pipeline")
			pool.Close(ctx)

			g.sink.Reset()
			runtime.GC()
			before = m.read()
			pprof.Do(ctx, pprof.Labels("stage", "raw"), func(context.Context) { rawLoop(b, g.sink.SMTPAddr(), g.raw) })
			raw := m.read().minus(before)
			g.caught(b, "raw loop")
			pipes, raws = append(pipes, pipe), append(raws, raw)
			b.Logf("round %d: per mail, pipeline %s; raw loop %s", len(pipes), pipe.per(), raw.per())
		}
	}
	p, r := medianCost(pipes), medianCost(raws)
	b.ReportMetric(p.us(p.cpu), "pipeline-µs/mail")
	b.ReportMetric(r.us(r.cpu), "raw-µs/mail")
	b.ReportMetric(p.us(p.cpu)-r.us(r.cpu), "pipeline-extra-µs/mail")
	b.ReportMetric(p.us(p.pg), "pg-µs/mail")
	b.ReportMetric(float64(p.allocs)/benchLeads, "pipeline-allocs/mail")
	b.ReportMetric(float64(r.allocs)/benchLeads, "raw-allocs/mail")
	b.ReportMetric(float64(p.bytes)/benchLeads, "pipeline-B/mail")
	b.Logf("median of %d rounds, per mail: pipeline %s; raw loop %s", len(pipes), p.per(), r.per())
}

func (c cost) us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / benchLeads }

func (c cost) per() string {
	return strconv.FormatFloat(c.us(c.cpu), 'f', 1, 64) + " µs CPU, " +
		strconv.FormatFloat(c.us(c.pg), 'f', 1, 64) + " µs Postgres CPU, " +
		strconv.FormatUint(c.allocs/benchLeads, 10) + " allocs, " +
		strconv.FormatUint(c.bytes/benchLeads, 10) + " B"
}

// medianCost takes the median of each figure on its own.
func medianCost(cs []cost) cost {
	pick := func(f func(cost) float64) float64 {
		xs := make([]float64, len(cs))
		for i, c := range cs {
			xs[i] = f(c)
		}
		return median(xs)
	}
	return cost{
		cpu:    time.Duration(pick(func(c cost) float64 { return float64(c.cpu) })),
		pg:     time.Duration(pick(func(c cost) float64 { return float64(c.pg) })),
		allocs: uint64(pick(func(c cost) float64 { return float64(c.allocs) })),
		bytes:  uint64(pick(func(c cost) float64 { return float64(c.bytes) })),
	}
}
