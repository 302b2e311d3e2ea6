package logtest_test

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/nurture/nurture/internal/logtest"
)

func TestBuffer_KeepsWhatGoroutinesLogAtOnce(t *testing.T) {
	var b logtest.Buffer
	log := b.Logger(slog.LevelInfo)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			log.Debug("hidden")
			log.Info("shown")
		})
	}
	wg.Wait()
	if n := b.Count("msg=shown"); n != 8 || b.Count("hidden") != 0 {
		t.Fatalf("%d lines shown, want 8:\n%s", n, b.String())
	}
}
