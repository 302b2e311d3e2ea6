package store

import (
	"context"
	"fmt"
	"time"
)

// Join registers this process as a relay node, alive until aliveUntil, and
// returns its id. From then on the mail this store writes leased (see
// NewMessage.LeaseUntil) and the mail it claims name the node: once the
// node stops renewing (RenewNode), any node may claim that mail at once.
// A store is one node; calling Join again starts a new one.
func (s *Store) Join(ctx context.Context, now, aliveUntil time.Time) (int64, error) {
	var id int64
	if err := s.q.JoinNode.GetContext(ctx, &id, now, aliveUntil); err != nil {
		return 0, fmt.Errorf("store: join as a relay node: %w", err)
	}
	s.node.Store(id)
	return id, nil
}

// Node returns the id Join gave, or 0 before it.
func (s *Store) Node() int64 { return s.node.Load() }

// RenewNode keeps node id alive until aliveUntil.
func (s *Store) RenewNode(ctx context.Context, id int64, aliveUntil time.Time) error {
	if _, err := s.q.RenewNode.ExecContext(ctx, id, aliveUntil); err != nil {
		return fmt.Errorf("store: renew relay node: %w", err)
	}
	return nil
}

// LeaveNode ends node id at now: what it still holds is free to claim.
// The store stays that node for what it writes until it joins again.
func (s *Store) LeaveNode(ctx context.Context, id int64, now time.Time) error {
	if _, err := s.q.LeaveNode.ExecContext(ctx, id, now); err != nil {
		return fmt.Errorf("store: leave as a relay node: %w", err)
	}
	return nil
}

// nodeArg is a node id as a query argument: NULL for none.
func nodeArg(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
