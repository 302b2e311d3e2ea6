package main

// reload is what SIGHUP does to a server's campaign files, for the tests
// that reload without sending the signal.
func (s *sequences) reload() error { return s.campaigns.Reload() }
