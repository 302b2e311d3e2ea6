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

// ownOID is what the fingerprint reads of a catalog: the rows of objects
// made after initdb (oid 16384 and up: FirstNormalObjectId), which are
// those of the migrations and of tests. Rows are compared as stored
// (OIDs, expressions as node trees), not deparsed, which costs Postgres a
// tenth: an object a test dropped and made again has a new OID, and its
// database is dropped rather than reused, which is merely slower.
const ownOID = ` >= 16384`

// fingerprintSQL sums what a migration can make of a database: schemas,
// relations, columns, defaults, indexes, constraints, triggers, functions,
// rules (views), types, sequences' definitions, extensions, policies, the
// database's own settings, and the goose rows. Two databases with the same
// sum hold the same schema at the same version. Not read: what changes by
// itself (relfilenode, statistics, relpages), and the temporary schemas a
// session leaves behind.
const fingerprintSQL = `
SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
	SELECT 'n' || ROW(oid, nspname, nspacl) FROM pg_namespace
	WHERE oid` + ownOID + ` AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
	UNION ALL
	SELECT 'c' || ROW(oid, relname, relnamespace, reltype, relam, relkind, relpersistence, relnatts, relchecks,
		relhastriggers, relrowsecurity, relforcerowsecurity, relreplident, relispartition, reloptions, relacl)
	FROM pg_class WHERE oid` + ownOID + ` AND relpersistence <> 't'
	UNION ALL
	SELECT 'a' || ROW(attrelid, attnum, attname, atttypid, atttypmod, attnotnull, atthasdef, attidentity,
		attgenerated, attisdropped, attcollation, attoptions)
	FROM pg_attribute a WHERE attrelid` + ownOID + ` AND attnum > 0
		AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = a.attrelid AND c.relpersistence <> 't')
	UNION ALL
	SELECT 'd' || ROW(oid, adrelid, adnum, adbin::text) FROM pg_attrdef WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'i' || ROW(indexrelid, indrelid, indisunique, indnullsnotdistinct, indisprimary, indimmediate,
		indisvalid, indisready, indkey, indcollation, indclass, indoption, indexprs::text, indpred::text)
	FROM pg_index WHERE indexrelid` + ownOID + `
	UNION ALL
	SELECT 'k' || ROW(oid, conname, connamespace, contype, condeferrable, condeferred, convalidated, conrelid,
		contypid, conindid, confrelid, confupdtype, confdeltype, confmatchtype, conkey, confkey, conbin::text)
	FROM pg_constraint WHERE oid` + ownOID + `
	UNION ALL
	SELECT 't' || ROW(oid, tgrelid, tgname, tgfoid, tgtype, tgenabled, tgconstraint, tgattr, tgargs, tgqual::text)
	FROM pg_trigger WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'f' || ROW(oid, proname, pronamespace, prolang, prokind, prosecdef, provolatile, pronargs,
		prorettype, proargtypes, proallargtypes, proargmodes, proargnames, prosrc, proconfig)
	FROM pg_proc WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'r' || ROW(oid, rulename, ev_class, ev_type, ev_enabled, md5(ev_action::text), ev_qual::text)
	FROM pg_rewrite WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'y' || ROW(oid, typname, typnamespace, typtype, typrelid, typbasetype, typtypmod, typnotnull,
		typdefault, typdefaultbin::text)
	FROM pg_type WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'e' || ROW(oid, enumtypid, enumsortorder, enumlabel) FROM pg_enum WHERE oid` + ownOID + `
	UNION ALL
	SELECT 's' || ROW(seqrelid, seqtypid, seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle)
	FROM pg_sequence WHERE seqrelid` + ownOID + `
	UNION ALL
	SELECT 'x' || ROW(oid, extname, extversion, extconfig) FROM pg_extension WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'p' || ROW(oid, polname, polrelid, polcmd, polpermissive, polroles, polqual::text, polwithcheck::text)
	FROM pg_policy WHERE oid` + ownOID + `
	UNION ALL
	SELECT 'b' || ROW(setrole, setconfig) FROM pg_db_role_setting
	WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
	UNION ALL
	SELECT 'g' || ROW(id, version_id, is_applied) FROM ` + gooseTable + `
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
	// untouched reads the statistics counters of the database (see
	// untouchedSQL); seqs are the setval calls of reset, for the reset of
	// just the tables untouched names.
	untouched string
	seqs      []string
}

// takeSnapshot reads the snapshot off db, a fresh clone of the template
// or a database reset to it.
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
	var settings string
	if err := db.QueryRowContext(ctx, roleSettingsSQL).Scan(&settings); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	s.untouched = untouchedSQL(empty, append(seeded, gooseTable), settings)
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
	s.seqs = seqs
	return s, nil
}

// watchedCatalogs are the catalogs of the database's own that fingerprintSQL
// reads: a write to one of them may have changed the schema.
var watchedCatalogs = []string{"pg_namespace", "pg_class", "pg_attribute", "pg_attrdef", "pg_index",
	"pg_constraint", "pg_trigger", "pg_proc", "pg_rewrite", "pg_type", "pg_enum", "pg_sequence",
	"pg_extension", "pg_policy"}

// roleSettingsSQL reads the settings of the database (ALTER DATABASE ...
// SET): they live in a catalog shared by every database, whose counters no
// reset of one database's statistics clears, so they are read instead.
const roleSettingsSQL = `SELECT coalesce(md5(string_agg(ROW(setrole, setconfig)::text, E'\n' ORDER BY setrole)), '')
	FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())`

// untouchedSQL is a query of the statistics counters that spares a used
// database the fingerprint and most of the reset: when its counters were
// cleared at its last reset (pg_stat_reset, which a crash also undoes),
// no row of the watched catalogs, nor of the tables in fixed (the seeded
// ones and the goose table), has been inserted, updated or deleted since,
// and its settings are those of the template, then it holds the
// template's schema and seeded rows, and only the tables of empty that
// had rows inserted need emptying. It returns whether that holds, and
// those tables. The counters of every session that ended are counted:
// a session adds its own when it ends, before it stops holding the
// database, and rename waits for every session to be gone.
func untouchedSQL(empty, fixed []string, settings string) string {
	watched := make([]string, 0, len(watchedCatalogs)+len(fixed))
	for _, c := range watchedCatalogs {
		watched = append(watched, pq.QuoteLiteral("pg_catalog."+c))
	}
	for _, t := range fixed {
		watched = append(watched, pq.QuoteLiteral(t))
	}
	lits := make([]string, len(empty))
	for i, t := range empty {
		lits[i] = pq.QuoteLiteral(t)
	}
	return `SELECT current_setting('track_counts')::bool
		AND pg_stat_get_db_stat_reset_time(d.oid) IS NOT NULL
		AND (SELECT sum(pg_stat_get_tuples_inserted(c) + pg_stat_get_tuples_updated(c) + pg_stat_get_tuples_deleted(c))
			FROM unnest(ARRAY[` + strings.Join(watched, ", ") + `]::regclass[]::oid[]) AS c) = 0
		AND (` + roleSettingsSQL + `) = ` + pq.QuoteLiteral(settings) + `,
	ARRAY(SELECT t FROM unnest(ARRAY[` + strings.Join(lits, ", ") + `]::text[]) AS t
		WHERE pg_stat_get_tuples_inserted(t::regclass) > 0)
	FROM pg_database d WHERE d.datname = current_database()`
}

// resetSQL is one statement that empties those of tables that hold rows
// and then runs the setval calls in seqs. A small table is emptied with
// DELETE, with the foreign keys' and other triggers off
// (session_replication_role), since TRUNCATE makes new files for the table
// and each of its indexes, and costs Postgres ten times more; a large one
// (over 1 MB) is truncated, CASCADE for the empty tables that refer to it.
func resetSQL(tables, seqs []string) string {
	lits := make([]string, len(tables))
	for i, t := range tables {
		lits[i] = pq.QuoteLiteral(t)
	}
	return `DO $pgtest$
DECLARE
	t text;
	big text[] := '{}';
	found bool;
BEGIN
	PERFORM set_config('session_replication_role', 'replica', true);
	FOREACH t IN ARRAY ARRAY[` + strings.Join(lits, ", ") + `]::text[] LOOP
		EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || t || ')' INTO found;
		IF NOT found THEN
			CONTINUE;
		ELSIF pg_relation_size(t::regclass) > 1048576 THEN
			big := big || t;
		ELSE
			EXECUTE 'DELETE FROM ' || t;
		END IF;
	END LOOP;
	IF cardinality(big) > 0 THEN
		EXECUTE 'TRUNCATE ' || array_to_string(big, ', ') || ' CASCADE';
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
