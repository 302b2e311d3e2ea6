package store

// scoreQueries are the queries of the score ledger and stages (scores.go).
type scoreQueries struct{}
