// Package handoff owns what happens once a lead is handed to sales: the
// owner's mail with the lead's story, the signed links and the sales API
// by which the owner accepts, rejects (recycling the lead) or qualifies it,
// and the digest of open handoffs on scoring.yaml's schedule.
//
// It does not decide when a lead becomes an MQL or who owns it (the
// funnel does, and inserts the handoffs row), nor deliver webhooks (it
// only asks Webhooks to enqueue one in the same transaction). Stage moves
// go through Stages, which cmd/nurture backs with the dispatcher, so stage
// triggers and exits keep working; it imports no other service.
package handoff
