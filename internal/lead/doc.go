// Package lead holds the lead and its consent ledger as plain types, and the
// rules that need no database: address normalisation, field validation and
// header safety. It imports nothing else from Nurture.
package lead
