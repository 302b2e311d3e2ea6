package pgtest

import (
	"flag"
	"strconv"
	"testing"
)

// RunParallel runs the tests of m with up to n parallel tests at once,
// unless -parallel was given, and returns the exit code for os.Exit. Tests
// on a database of their own wait on Postgres (and SMTP) far more than they
// compute, so go test's default of GOMAXPROCS leaves the machine idle.
// Call it from TestMain: os.Exit(pgtest.RunParallel(m, 8)).
//
// It also keeps the binary's migrated databases in a pool between tests
// (see the package comment) and drops them when the tests have ended.
func RunParallel(m *testing.M, n int) int {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
	pool.on.Store(true)
	code := m.Run()
	drain()
	return code
}
