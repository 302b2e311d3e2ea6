// Package web is Nurture's HTTP surface: the public signup, confirm and
// unsubscribe pages and their JSON API, the admin API, and health checks.
// Handlers decode, call a service and encode; one table (errors.go) maps the
// services' errors to HTTP statuses. It holds no business rules.
package web
