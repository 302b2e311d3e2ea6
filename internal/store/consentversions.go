package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ConsentVersion is one wording of a consent under its version: what the
// server keeps of every version that was ever live.
type ConsentVersion struct {
	Version     string    `db:"version"`
	Wording     string    `db:"wording"`
	FirstSource string    `db:"first_source"`
	FirstLiveAt time.Time `db:"first_live_at"`
}

// ConsentConflict is a version offered with other words than the ones it
// was live with.
type ConsentConflict struct {
	Offered ConsentVersion
	Known   ConsentVersion
}

// RegisterConsentVersions makes versions live: each one not known yet is
// kept with its wording. When any of them is known with another wording,
// nothing is kept and the conflicts are returned, so a rejected set of
// forms leaves no trace.
func (s *Store) RegisterConsentVersions(ctx context.Context, vs []ConsentVersion, now time.Time) ([]ConsentConflict, error) {
	var conflicts []ConsentConflict
	errConflict := errors.New("conflict")
	err := s.WithTx(ctx, func(tx *Tx) error {
		conflicts = nil
		for _, v := range vs {
			if _, err := tx.stmt(s.q.InsertConsentVersion).ExecContext(ctx, v.Version, v.Wording, v.FirstSource, now.UTC()); err != nil {
				return fmt.Errorf("store: register consent version %q: %w", v.Version, err)
			}
			var known ConsentVersion
			if err := tx.stmt(s.q.ConsentVersion).GetContext(ctx, &known, v.Version); err != nil {
				return fmt.Errorf("store: consent version %q: %w", v.Version, err)
			}
			if known.Wording != v.Wording {
				conflicts = append(conflicts, ConsentConflict{Offered: v, Known: known})
			}
		}
		if len(conflicts) > 0 {
			return errConflict
		}
		return nil
	})
	if errors.Is(err, errConflict) {
		return conflicts, nil
	}
	return nil, err
}

// ConsentVersionConflicts returns the versions known with another wording,
// and keeps nothing: what a check of files that are not live asks.
func (s *Store) ConsentVersionConflicts(ctx context.Context, vs []ConsentVersion) ([]ConsentConflict, error) {
	var conflicts []ConsentConflict
	for _, v := range vs {
		var known ConsentVersion
		err := s.q.ConsentVersion.GetContext(ctx, &known, v.Version)
		switch {
		case errors.Is(notFound(err), ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("store: consent version %q: %w", v.Version, err)
		}
		if known.Wording != v.Wording {
			conflicts = append(conflicts, ConsentConflict{Offered: v, Known: known})
		}
	}
	return conflicts, nil
}
