// Package faults is the fault suite: black-box tests that run the built
// `nurture serve` as one or two processes against a private Postgres
// cluster they restart and stop, and against the devmail catcher, which
// they refuse, stall and slow down. They hold what the README promises for
// crashes, outages and stops.
//
// The tests build only with the faults tag, so a plain `go test ./...`
// stays quick: `make test-faults` runs them, and `make test` calls it.
// NURTURE_BIN names a built binary to test; without it the suite builds
// one from this module. The package has no code of its own.
package faults
