// Package problem owns what is wrong in a marketer's file: a Problem at a
// path and line, read as "path:line: message" the way compilers write
// them, its severity, and the suggestion of the name a typo meant. The
// scoring file's parser reports with it. It is pure and imports nothing
// from Nurture.
package problem
