// Package web owns Nurture's HTTP surface: the public signup, confirm,
// unsubscribe and tracking-consent pages and their JSON API, the pixel and
// click redirect, the site's page-view script, the sales pages behind the
// signed links in the owner's mail, the admin and sales APIs with their own
// response types, and health checks. Handlers decode, call a service
// through the small interfaces this package declares (OptIn, Sequences,
// TrackingConsent, Engagement, Site, Sales, Webhooks, Reports), and encode; one
// table (errors.go) maps the services' errors to HTTP statuses. It holds no
// business rules.
package web
