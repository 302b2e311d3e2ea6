// Package migrations owns the database schema: the NNNN_name.sql files in
// this folder, embedded into the binary, which internal/store applies with
// goose. A migration once shipped is never edited; a change is a new file.
package migrations
