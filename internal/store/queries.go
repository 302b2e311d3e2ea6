package store

import "github.com/jmoiron/sqlx"

// queries are the prepared statements; each field's tag names its file in sql/.
type queries struct {
	Placeholder *sqlx.Stmt `query:"placeholder"`
}
