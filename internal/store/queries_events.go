package store

// eventQueries are the queries of recorded events and the lead facts they keep (events.go).
type eventQueries struct{}
