/**
 * Effect's default scheduler runs fibers on microtasks and, after 2048 rounds in a row, yields
 * with `setTimeout(0)` — at least 1 ms during which no fiber runs. A busy server meets that
 * every few hundred requests and its tail latency shows it. This one yields with `setImmediate`
 * instead: I/O still gets its turn, without the timer's floor.
 */
import { Scheduler } from "effect"

export class NodeScheduler implements Scheduler.Scheduler {
  private running = false
  private tasks = new Scheduler.PriorityBuckets()

  constructor(private readonly maxMicrotaskRounds = 2048) {}

  readonly shouldYield = Scheduler.defaultShouldYield

  scheduleTask(task: Scheduler.Task, priority: number) {
    this.tasks.scheduleTask(task, priority)
    if (!this.running) {
      this.running = true
      this.next(0)
    }
  }

  private next(depth: number) {
    if (depth >= this.maxMicrotaskRounds) setImmediate(() => this.run(0))
    else queueMicrotask(() => this.run(depth + 1))
  }

  private run(depth: number) {
    const buckets = this.tasks.buckets
    this.tasks.buckets = []
    for (const [, tasks] of buckets) for (const task of tasks) task()
    if (this.tasks.buckets.length === 0) this.running = false
    else this.next(depth)
  }
}
