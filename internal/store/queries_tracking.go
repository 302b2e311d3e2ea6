package store

// trackingQueries are the queries of the leads' tracking consent (tracking.go).
type trackingQueries struct{}
