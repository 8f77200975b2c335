/**
 * Effect's default scheduler runs fibers on microtasks and, after 2048 rounds in a row, yields
 * with `setTimeout(0)` — at least 1 ms during which no fiber runs. A busy server meets that
 * every few hundred requests and its tail latency shows it. This one yields with `setImmediate`
 * instead: I/O still gets its turn, without the timer's floor.
 *
 * Everything else is Effect's own: the same `SchedulerRunner` as its `MixedScheduler`, one per
 * fiber (the fiber Effect passes to `scheduleTask`), so one fiber's long run of microtask rounds
 * does not push the others to the macrotask queue.
 */
import { type Fiber, Scheduler } from "effect"

export class NodeScheduler implements Scheduler.Scheduler {
  private readonly runnerOf: (fiber?: Fiber.RuntimeFiber<unknown, unknown>) => Scheduler.SchedulerRunner

  constructor(readonly maxMicrotaskRounds = 2048) {
    this.runnerOf = Scheduler.SchedulerRunner.cached((depth, drain) => {
      if (depth >= this.maxMicrotaskRounds) setImmediate(() => drain(0))
      else queueMicrotask(() => drain(depth + 1))
    })
  }

  readonly shouldYield = Scheduler.defaultShouldYield

  scheduleTask(task: Scheduler.Task, priority: number, fiber?: Fiber.RuntimeFiber<unknown, unknown>) {
    this.runnerOf(fiber).scheduleTask(task, priority)
  }
}
