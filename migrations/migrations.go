package migrations

import "embed"

// FS holds every NNNN_name.sql file in this folder.
//
//go:embed *.sql
var FS embed.FS
