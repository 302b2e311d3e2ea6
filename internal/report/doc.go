// Package report owns the reports of what the mails drew: it assembles the
// store's figures per sequence, step and link, always with the raw count
// (every recorded open and click, a scanner's or a proxy's included) beside
// the counted one (verdicts human and image_proxy only, as scoring and the
// conditions count).
//
// It reads only through the small Store interface it declares, and writes
// nothing; formatting for HTTP and the terminal belongs to web and
// cmd/nurture.
package report
