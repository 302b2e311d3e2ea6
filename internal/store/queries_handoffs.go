package store

// handoffQueries are the queries of handoffs, routing turns and webhook attempts (handoffs.go).
type handoffQueries struct{}
