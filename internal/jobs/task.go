package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// A task is work that one node does each time its schedule falls due,
// such as the digest of handoffs: every node's cron calls Due at the
// slot, and River keeps one job of a task and slot, whichever node's
// insert came first, so exactly one node runs it. A task that fails is
// tried again, as River retries any job.

const taskQueue = "tasks"

// taskArgs is a task's job: its name and the slot it runs for.
type taskArgs struct {
	Name string    `json:"name"`
	Slot time.Time `json:"slot"`
}

func (taskArgs) Kind() string { return "task" }

type taskWorker struct {
	river.WorkerDefaults[taskArgs]
	q *Queue
}

// Timeout lets a task run for half an hour, not River's default minute:
// the decay refreshes every stale score in one go.
func (w *taskWorker) Timeout(*river.Job[taskArgs]) time.Duration { return 30 * time.Minute }

func (w *taskWorker) Work(ctx context.Context, job *river.Job[taskArgs]) error {
	run, ok := w.q.tasks[job.Args.Name]
	if !ok {
		return river.JobCancel(fmt.Errorf("%w: %q", ErrUnknownTask, job.Args.Name))
	}
	return run(ctx)
}

// Task registers run as the task name, before Start.
func (q *Queue) Task(name string, run func(context.Context) error) { q.tasks[name] = run }

// Due queues task name for its slot, once however many nodes call it: a
// later call for the same slot, while River keeps the first job (a day
// after it ran), adds none.
func (q *Queue) Due(ctx context.Context, name string, slot time.Time) error {
	if _, ok := q.tasks[name]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTask, name)
	}
	_, err := q.insert.Insert(ctx, taskArgs{Name: name, Slot: slot.UTC()}, &river.InsertOpts{
		Queue:       taskQueue,
		MaxAttempts: 5,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("jobs: queue task %s for %s: %w", name, slot.UTC().Format(time.RFC3339), err)
	}
	return nil
}
