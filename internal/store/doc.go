// Package store owns Nurture's data in Postgres and is the only package
// that speaks SQL: the schema migrations, the named queries (one file each
// in sql/, prepared at start so a broken query stops the boot),
// transactions, the outbox and the SKIP LOCKED claims. It imports only
// Nurture's plain types (and dsn, which checks a connection string without
// repeating its password), and calls no one: a writer that queued mail
// wakes its sender itself once the transaction commits (Tx.AfterCommit).
// Every time that matters is passed in by the caller, so tests control the
// clock.
package store
