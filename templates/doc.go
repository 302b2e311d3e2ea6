// Package templates owns the mail layouts and web pages shipped with the
// binary, embedded with go:embed. NURTURE_TEMPLATES may point at a folder
// on disk with the same layout to override them:
//
//	email/base.html                         the frame of the HTML mails below
//	email/confirm.html, email/confirm.txt   the confirmation mail
//	email/handoff.html, email/handoff.txt   a handoff's mail to its owner
//	email/digest.html, email/digest.txt     an owner's digest of open handoffs
//	email/layouts/NAME.html, NAME.txt       layouts for sequence mails
//	pages/*.html                            the public web pages
package templates
