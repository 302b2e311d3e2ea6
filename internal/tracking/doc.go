// Package tracking owns what open and click tracking needs besides the
// database: signed tokens for the pixel and the click redirect, rewriting a
// mail's links to those, the pixel itself, the verdict on who fetched it (a
// person, Apple Mail Privacy Protection, an image proxy, a scanner or a
// prefetch), the IP ranges those verdicts use, anonymising a client's
// address before it is stored, and the URL globs that clicks are matched
// against.
//
// It is pure: it never reads the database, serves HTTP or sends mail, and it
// imports none of Nurture's services or its store. A token carries ids only;
// the address a click redirects to is looked up by the server in its own
// record of the mail's links, never taken from the token or the request, so
// the redirect can never be an open one.
package tracking
