package store

import "github.com/jmoiron/sqlx"

// linkQueries are the queries of the link sets of tracked mail (links.go).
type linkQueries struct {
	ReserveMessageIDs *sqlx.Stmt `query:"reserve_message_ids"`
	InsertLinkSets    *sqlx.Stmt `query:"insert_link_sets"`
	LinkSetOfMessage  *sqlx.Stmt `query:"link_set_of_message"`
	SetMessageLinkSet *sqlx.Stmt `query:"set_message_link_set"`
	RecentLinkMails   *sqlx.Stmt `query:"recent_link_mails"`
	LinkSetsByID      *sqlx.Stmt `query:"link_sets_by_id"`
}
