package templates

import "embed"

// FS holds the templates shipped with the binary.
//
//go:embed email pages
var FS embed.FS
