package store

// linkQueries are the queries of the link sets of tracked mail (links.go).
type linkQueries struct{}
