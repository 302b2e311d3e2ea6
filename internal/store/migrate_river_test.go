package store_test

import (
	"context"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/nurture/nurture/internal/pgtest"
	"github.com/nurture/nurture/internal/store"
)

// A fresh database gets River's tables from Migrate, also when two nodes
// migrate it at once; and the schema is current only while they are all
// there.
func TestMigrate_RiverTablesOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, pgtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var g errgroup.Group
	for range 2 {
		g.Go(func() error { _, err := store.Migrate(ctx, db.DB); return err })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var jobs bool
	if err := db.Get(&jobs, `SELECT to_regclass('river_job') IS NOT NULL`); err != nil || !jobs {
		t.Fatalf("no river_job table after Migrate: %v", err)
	}
	if n, err := store.Migrate(ctx, db.DB); err != nil || n != 0 {
		t.Errorf("migrating again applied %d: %v", n, err)
	}
	if ok, err := store.MigrationsCurrent(ctx, db.DB); err != nil || !ok {
		t.Errorf("current = %v, %v after Migrate", ok, err)
	}
	if _, err := db.Exec(`DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.MigrationsCurrent(ctx, db.DB); err != nil || ok {
		t.Errorf("current = %v, %v with a River migration missing", ok, err)
	}
}
