package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nurture/nurture/internal/dispatch"
	"github.com/nurture/nurture/internal/web"
)

// siteEvents records the page views /t/view takes as events of their lead,
// through the dispatcher's RecordEvent, which also enrols the lead in the
// sequences a page_view starts. RecordEvent keeps the type only: the page's
// address is not stored until the event recorder takes these events.
type siteEvents struct{ d *dispatch.Dispatcher }

func (s siteEvents) Record(ctx context.Context, evs []web.SiteEvent) error {
	for _, ev := range evs {
		id, err := strconv.ParseInt(ev.Lead, 10, 64)
		if err != nil {
			return fmt.Errorf("site event: lead %q: %w", ev.Lead, err)
		}
		if _, err := s.d.RecordEvent(ctx, id, ev.Type); err != nil {
			return err
		}
	}
	return nil
}
