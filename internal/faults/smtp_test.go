//go:build faults

package faults

import (
	"time"

	"github.com/nurture/nurture/internal/devmail"
)

// delay is a catcher rule that takes d to accept each mail, after its
// final dot.
func delay(d time.Duration) devmail.Rule {
	return func(stage devmail.Stage, _, _ string) *devmail.Reply {
		if stage == devmail.AtData {
			time.Sleep(d)
		}
		return nil
	}
}
