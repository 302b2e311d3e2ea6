// Package ratelimit owns the in-memory rate limits: one token bucket per
// key (an IP, an address). Time is passed in, so tests control it. It knows
// nothing of HTTP.
package ratelimit
