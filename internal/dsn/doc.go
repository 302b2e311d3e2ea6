// Package dsn checks a Postgres connection string, a postgres:// URL or a
// key=value list, exactly as lib/pq will read it, and says what is wrong
// without ever repeating a password. Config checks NURTURE_DATABASE_URL
// with it at start, and store before it connects. It knows nothing else of
// Nurture.
package dsn
