// Package templates embeds the mail layouts and web pages. NURTURE_TEMPLATES
// may point at a folder on disk with the same layout to override them:
//
//	email/confirm.html, email/confirm.txt   the confirmation mail
//	email/layouts/NAME.html, NAME.txt       layouts for sequence mails
//	pages/*.html                            the public web pages
package templates

import "embed"

// FS holds the templates shipped with the binary.
//
//go:embed email pages
var FS embed.FS
