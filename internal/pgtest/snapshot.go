package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// gooseTable is the migration bookkeeping: its rows are the schema's
// version, so they are part of the fingerprint and never emptied.
const gooseTable = "goose_db_version"

// userSchemas limits a catalog query on namespace n to the database's own
// schemas: not the system's, not the toast or temporary ones.
const userSchemas = `n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'`

// fingerprintSQL sums what a migration can make of a database: schemas,
// relations, columns, defaults, indexes, constraints, triggers, functions,
// views, types, sequences' definitions, extensions, policies, the
// database's own settings, and the goose rows. Two databases with the same
// sum hold the same schema at the same version.
const fingerprintSQL = `
SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
	SELECT 'n ' || n.nspname FROM pg_namespace n WHERE ` + userSchemas + `
	UNION ALL
	SELECT concat_ws(' ', 'c', c.oid::regclass, c.relkind, c.relpersistence, c.relrowsecurity, c.reloptions)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userSchemas + `
	UNION ALL
	SELECT concat_ws(' ', 'a', c.oid::regclass, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
		a.attnotnull, a.attidentity, a.attgenerated, a.attcollation, pg_get_expr(d.adbin, d.adrelid))
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE ` + userSchemas + ` AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT concat_ws(' ', 'i', pg_get_indexdef(i.indexrelid), i.indisvalid)
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE ` + userSchemas + `
	UNION ALL
	SELECT concat_ws(' ', 'k', k.conrelid::regclass, k.contypid::regtype, k.conname, pg_get_constraintdef(k.oid), k.convalidated)
	FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE ` + userSchemas + `
	UNION ALL
	SELECT concat_ws(' ', 't', g.tgrelid::regclass, g.tgname, g.tgenabled, pg_get_triggerdef(g.oid))
	FROM pg_trigger g WHERE NOT g.tgisinternal
	UNION ALL
	SELECT concat_ws(' ', 'f', p.oid::regprocedure, p.prokind, md5(pg_get_functiondef(p.oid)))
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ` + userSchemas + ` AND p.prokind <> 'a'
	UNION ALL
	SELECT concat_ws(' ', 'v', c.oid::regclass, md5(pg_get_viewdef(c.oid)))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userSchemas + ` AND c.relkind IN ('v', 'm')
	UNION ALL
	SELECT concat_ws(' ', 'y', t.oid::regtype, t.typtype, t.typnotnull, t.typdefault)
	FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ` + userSchemas + `
	UNION ALL
	SELECT concat_ws(' ', 'e', e.enumtypid::regtype, e.enumsortorder, e.enumlabel) FROM pg_enum e
	UNION ALL
	SELECT concat_ws(' ', 's', s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
	FROM pg_sequence s
	UNION ALL
	SELECT concat_ws(' ', 'x', x.extname, x.extversion) FROM pg_extension x
	UNION ALL
	SELECT concat_ws(' ', 'p', p.polrelid::regclass, p.polname, p.polcmd, p.polpermissive, pg_get_expr(p.polqual, p.polrelid))
	FROM pg_policy p
	UNION ALL
	SELECT concat_ws(' ', 'd', r.setrole, r.setconfig) FROM pg_db_role_setting r
	WHERE r.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
	UNION ALL
	SELECT concat_ws(' ', 'g', g.id, g.version_id, g.is_applied) FROM ` + gooseTable + ` g
) AS f(x)`

// snapshot is what a fresh clone of the template holds, taken once per
// test binary: what a used database must match to be handed out again,
// and how to bring its rows back to it.
type snapshot struct {
	schema string // fingerprintSQL of a fresh clone
	// reset empties every table with rows, but the goose table and the
	// seeded ones, and puts every sequence back where the template has it.
	reset string
	// seeded sums the rows of the tables that migrations fill ("" when
	// there are none); a database whose seeded rows changed is dropped.
	seeded    string
	seededSQL string
}

// takeSnapshot reads the snapshot off db, a fresh clone of the template.
func takeSnapshot(ctx context.Context, db *sql.DB) (*snapshot, error) {
	s := &snapshot{}
	if err := db.QueryRowContext(ctx, fingerprintSQL).Scan(&s.schema); err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	tables, err := strings0(ctx, db, `
		SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE `+userSchemas+` AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY 1`, gooseTable)
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	var empty, seeded []string
	for _, t := range tables {
		var rows bool
		if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&rows); err != nil {
			return nil, fmt.Errorf("rows of %s: %w", t, err)
		}
		if rows {
			seeded = append(seeded, t)
		} else {
			empty = append(empty, t)
		}
	}
	if len(seeded) > 0 {
		var parts []string
		for _, t := range seeded {
			parts = append(parts, `(SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM `+t+` AS r)`)
		}
		s.seededSQL = "SELECT concat_ws(' ', " + strings.Join(parts, ", ") + ")"
		if err := db.QueryRowContext(ctx, s.seededSQL).Scan(&s.seeded); err != nil {
			return nil, fmt.Errorf("seeded rows: %w", err)
		}
	}
	seqs, err := strings0(ctx, db, `
		SELECT format('PERFORM setval(%L, %s, %s);', format('%I.%I', schemaname, sequencename),
			coalesce(last_value, start_value), CASE WHEN last_value IS NULL THEN 'false' ELSE 'true' END)
		FROM pg_sequences ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sequences: %w", err)
	}
	s.reset = resetSQL(empty, seqs)
	return s, nil
}

// resetSQL is one statement that truncates those of tables that hold
// rows (CASCADE, for the empty tables that refer to them) and then runs
// the setval calls in seqs.
func resetSQL(tables, seqs []string) string {
	lits := make([]string, len(tables))
	for i, t := range tables {
		lits[i] = pq.QuoteLiteral(t)
	}
	return `DO $pgtest$
DECLARE
	t text;
	busy text[] := '{}';
	found bool;
BEGIN
	FOREACH t IN ARRAY ARRAY[` + strings.Join(lits, ", ") + `]::text[] LOOP
		EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || t || ')' INTO found;
		IF found THEN
			busy := busy || t;
		END IF;
	END LOOP;
	IF cardinality(busy) > 0 THEN
		EXECUTE 'TRUNCATE ' || array_to_string(busy, ', ') || ' CASCADE';
	END IF;
	` + strings.Join(seqs, "\n\t") + `
END
$pgtest$`
}

// strings0 returns the first column of every row of q.
func strings0(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
