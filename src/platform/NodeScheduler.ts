/**
 * Effect's default scheduler runs fibers on microtasks and, after 2048 rounds in a row, yields
 * with `setTimeout(0)` — at least 1 ms during which no fiber runs. A busy server meets that
 * every few hundred requests and its tail latency shows it. This one yields with `setImmediate`
 * instead: I/O still gets its turn, without the timer's floor.
 *
 * The draining is Effect's own `SchedulerRunner`, one for every fiber of the process: all ready
 * fibers run in one microtask, and the 2048 rounds count for the process as a whole, so I/O gets
 * its turn however many fibers there are. Effect's `MixedScheduler` keeps a runner per fiber (the
 * fiber `scheduleTask` is given) instead; on the webhook's fibers that costs CPU per fiber without
 * a use here (docs/benchmarks.md), so the fiber is not looked at.
 */
import { Scheduler } from "effect"

export class NodeScheduler implements Scheduler.Scheduler {
  private readonly runner: Scheduler.SchedulerRunner

  constructor(readonly maxMicrotaskRounds = 2048) {
    this.runner = new Scheduler.SchedulerRunner((depth, drain) => {
      if (depth >= this.maxMicrotaskRounds) setImmediate(() => drain(0))
      else queueMicrotask(() => drain(depth + 1))
    })
  }

  readonly shouldYield = Scheduler.defaultShouldYield

  scheduleTask(task: Scheduler.Task, priority: number) {
    this.runner.scheduleTask(task, priority)
  }
}
