package main

import (
	"context"

	"github.com/nurture/nurture/internal/engage"
	"github.com/nurture/nurture/internal/web"
)

// siteEvents records the page views /t/view takes through the event
// recorder, as every other event is recorded: with their page's address,
// counted in the lead's facts, enrolling the lead in the sequences a
// page_view starts.
type siteEvents struct{ e *engage.Service }

func (s siteEvents) Record(ctx context.Context, evs []web.SiteEvent) error {
	in := make([]engage.Event, len(evs))
	for i, ev := range evs {
		in[i] = engage.Event(ev)
	}
	_, err := s.e.Record(ctx, in)
	return err
}
