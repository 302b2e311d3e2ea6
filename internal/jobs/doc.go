// Package jobs runs the server's background jobs that are not mail on
// River, a Postgres job queue: one queue client over the store's pool,
// whose workers the services register (the webhook deliveries), and the
// tasks that one node runs for each time a schedule falls due (the
// digest of handoffs, the decay of scores).
package jobs
