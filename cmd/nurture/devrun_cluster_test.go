package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// runCluster is one cluster made with scripts/pg init for this test binary,
// never started: each run of scripts/run gets a copy of it in its data
// folder, which scripts/pg then starts as it would one it had made. A copy
// costs a tenth of an initdb, whose sync to disk alone takes seconds.
var runCluster struct {
	once sync.Once
	dir  string // holds pg/data
	err  error
}

// prepareRunCluster makes the cluster, once; the first caller waits for it.
func prepareRunCluster() error {
	runCluster.once.Do(func() {
		dir, err := os.MkdirTemp("", "nurture-run-cluster-")
		if err != nil {
			runCluster.err = err
			return
		}
		runCluster.dir = dir
		cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "pg"), "init", "--fast", filepath.Join(dir, "pg"))
		if out, err := cmd.CombinedOutput(); err != nil {
			runCluster.err = fmt.Errorf("scripts/pg init: %v\n%s", err, out)
		}
	})
	return runCluster.err
}

// prepareRunClusterEarly makes the cluster in the background when every
// test runs, so that the runs, the slowest tests, need not wait for it.
func prepareRunClusterEarly() {
	flag.Parse()
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		go prepareRunCluster()
	}
}

// removeRunCluster removes the cluster when the tests have ended.
func removeRunCluster() {
	prepareRunCluster() // waits for one still being made
	if runCluster.dir != "" {
		os.RemoveAll(runCluster.dir)
	}
}

// seedRunCluster puts a copy of the cluster in dir/pg, where scripts/run
// looks for its cluster. The copy is the test's to throw away, so it runs
// without syncing to disk, as scripts/pg start --fast would.
func seedRunCluster(t *testing.T, dir string) {
	t.Helper()
	if err := prepareRunCluster(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pg"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "pg", "data")
	if out, err := exec.Command("cp", "-a", filepath.Join(runCluster.dir, "pg", "data"), data).CombinedOutput(); err != nil {
		t.Fatalf("copy the cluster: %v\n%s", err, out)
	}
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conf.Close()
	if _, err := conf.WriteString("\n# a test's copy\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"); err != nil {
		t.Fatal(err)
	}
}
