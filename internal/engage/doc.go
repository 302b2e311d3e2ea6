// Package engage owns recording what leads do: opens of the pixel, clicks
// through tracked links, and events that the API, the marketer's site or
// Nurture itself report. It gives each open and click its verdict (a
// person, Apple Mail Privacy Protection, an image proxy, a scanner or a
// prefetch), keeps the lead facts that conditions read in the same
// transaction as the event, and answers a request only once its event has
// committed, many requests sharing one transaction (group commit).
//
// It decides nothing about scores or stages: scoring takes the events it
// wrote, and the sequences it enrols a lead in on an event are the
// dispatcher's, reached through Config.OnEvent. It never takes a redirect
// target from a request: a click's target is the server's own record of the
// mail's links.
package engage
