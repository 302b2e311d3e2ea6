// Package funnel owns lead scores and the move from lead to MQL: it scores
// recorded events under scoring.yaml (claimed in batches with SKIP LOCKED,
// each lead locked while its points, caps and fit are worked out), writes
// every change of score to the score ledger with its reason, keeps stored
// scores fresh as engagement decays, and when the mql rule first holds
// moves the lead to mql, routes it to an owner in sales by round robin and
// opens the handoff, all in the transaction of the score change.
//
// It does not send the owner's mail or the webhook: it hands each new
// handoff to the Handoffs it is given, in the same transaction. It does not
// record events either; it only reads them. It imports store and the pure
// packages, never another service: stage changes go through the
// StageFunc that cmd/nurture wires to the sequence engine.
package funnel
