// Package pgtest owns the Postgres that tests run against: it gives each
// test a real, migrated database of its own.
//
// NewDB gives each test, parallel or not, a database of its own that holds
// every migration in github.com/nurture/nurture/migrations and no rows but
// those the migrations insert. The first ones are cloned from a template
// database; when a test ends, its URL stops reaching its database.
//
// # The pool
//
// A clone costs Postgres two checkpoints and a copy of the template's
// files, and a drop a third checkpoint: most of what Postgres did in a run
// of the tests. So in a test binary whose TestMain calls RunParallel, a
// test's database goes back to a pool when the test ends, for the next
// test to take: every session on it is ended, it is renamed (so the old
// URL reaches nothing, as if it were dropped), and it is emptied: the
// tables that hold rows are truncated, and every sequence is set back to
// where the template has it, so ids start at 1 again. First it is checked
// against a fingerprint of the template's catalog (schemas, tables,
// columns, indexes, constraints, triggers, functions, types, sequences)
// and the goose rows: a database whose schema or migration version a test
// changed is dropped instead, as is one that refuses connections or lost
// rows that the migrations inserted. A database reset before skips the
// fingerprint when Postgres's statistics counters, cleared at its last
// reset, show no write to those catalogs, to the goose table or to the
// seeded tables since, and its settings are unchanged; then only the
// tables the counters show rows inserted into are emptied. When the tests
// end, RunParallel renames the pool's databases to
// nurture_pool_<template hash>_..., and a
// binary that needs a database takes one of those (by renaming it: of two
// binaries that try at once, one wins) before it clones the template. So
// the server keeps about as many of them as the test binaries used at once
// (on a cluster of make test they go with the cluster); those of other
// migrations are dropped when a binary starts. EmptyURL, and NewDB in a
// binary without RunParallel, clone a database and drop it after the test.
//
// # Which server
//
// When NURTURE_TEST_DATABASE_URL is set (make test sets it), that server is
// used; the URL names a database from which the role can CREATE DATABASE,
// such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
//
// Otherwise pgtest runs scripts/pg (found beside the go.mod above the
// package under test) to start one fast, throwaway cluster in
// $TMPDIR/nurture-pgtest-<uid>, shared by every test binary of the same
// user. Each binary that uses it holds a shared flock on users.lock in that
// folder until it exits, however it exits. A watcher (scripts/pg autostop)
// stops the cluster once nobody has held that lock for 15 seconds; the
// data stays for the next run, so the template is migrated once and only
// rebuilt when the migrations change. A test binary that crashed leaves
// its databases behind; the next binary to start drops those whose process
// is gone.
//
// # The template
//
// The template is named nurture_tpl_<hash of the migration files>, so a
// change to the migrations builds a new one. Test binaries that start at
// once build it one at a time under a Postgres advisory lock; a build that
// died half way (the database exists but is not yet marked as a template)
// is dropped and done again. Templates of older migrations are left in
// place, since another checkout may still use them.
//
// pgtest is for tests only: nothing outside _test.go files may import it.
package pgtest
