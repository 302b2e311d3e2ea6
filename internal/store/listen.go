package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Listen calls wake whenever a NOTIFY arrives on channel, and once after
// every reconnect (a notification may have been missed meanwhile). It
// returns when ctx is done.
func Listen(ctx context.Context, url, channel string, log *slog.Logger, wake func()) error {
	l := pq.NewListener(url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected:
			wake()
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			log.Warn("listen: connection lost", "channel", channel, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(channel); err != nil {
		return fmt.Errorf("store: listen %s: %w", channel, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n != nil {
				wake()
			}
		case <-time.After(time.Minute):
			go l.Ping()
		}
	}
}
