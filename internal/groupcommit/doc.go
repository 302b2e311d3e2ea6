// Package groupcommit owns the queue of group commit: callers hand it an
// item and wait, while writers take everything waiting, up to a batch, and
// write it in one round. Under load one commit then serves many callers;
// at idle an item goes at once, since there is no fixed wait. It knows
// nothing of what is written or where: its Config's Write does that.
package groupcommit
