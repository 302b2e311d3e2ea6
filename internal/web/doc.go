// Package web owns Nurture's HTTP surface: the public signup, confirm and
// unsubscribe pages and their JSON API, the admin API with its own
// response types, and health checks. Handlers decode, call a service
// through the small interfaces this package declares (OptIn, Sequences),
// and encode; one table (errors.go) maps the services' errors to HTTP
// statuses. It holds no business rules.
package web
