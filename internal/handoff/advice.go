package handoff

import (
	"fmt"

	"github.com/nurture/nurture/internal/lead"
	"github.com/nurture/nurture/internal/store"
)

// pastTense is what an action makes of a lead, as a person says it.
var pastTense = map[Action]string{Accept: "accepted", Reject: "rejected", Qualify: "qualified"}

// Advice says, for the owner on an action link's page, why action a cannot
// act on a handoff in status with its lead at stage, and which action, if
// any, comes first or next ("" for none). The sales API keeps the exact
// ConflictError.
func Advice(a Action, status string, stage lead.Stage) (string, Action) {
	switch status {
	case store.HandoffOpen:
		if a == Qualify {
			return "Accept this lead first: qualifying comes after accepting.", Accept
		}
	case store.HandoffAccepted:
		if a == Accept {
			return "You have accepted this lead already. Once it is a real opportunity, qualify it.", Qualify
		}
	case store.HandoffQualified:
		return "This lead is qualified already: there is nothing left to decide here.", ""
	case store.HandoffRejected:
		return "This lead was rejected and went back to nurturing. It comes back to sales if it engages again, with a new mail.", ""
	case "":
		return fmt.Sprintf("This lead is no longer with sales (it is at stage %s), so it cannot be %s.", stage, pastTense[a]), ""
	}
	return fmt.Sprintf("This lead has moved on (it is at stage %s now), so it can no longer be %s here.", stage, pastTense[a]), ""
}

// ForPerson is the conflict in the words of Advice.
func (e *ConflictError) ForPerson() string {
	s, _ := Advice(e.Action, e.Status, e.Stage)
	return s
}
