// Package migrations embeds the SQL migrations that internal/store applies with goose.
package migrations

import "embed"

// FS holds every NNNN_name.sql file in this folder.
//
//go:embed *.sql
var FS embed.FS
