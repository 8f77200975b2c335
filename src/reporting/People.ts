/**
 * The people report: a month's billed usage per user (`Reports.monthSummary`'s users) with the
 * directory's name, e-mail, role and groups beside each id, and per group. A user in two groups
 * counts in both; users in none (or unknown to the directory) are totalled apart. Without a
 * readable directory the ids stand alone and the status says why.
 */
import { BigDecimal, Effect } from "effect"
import { DirectoryStatus, GroupTotal, PeopleReport, PersonTotal } from "../api/PeopleApi.js"
import type { UserTotal } from "../api/UsageModel.js"
import { Directory, groupsOf, lookup } from "../directory/Directory.js"
import { formatDecimal } from "../domain/Money.js"
import { Reports } from "./Reports.js"

type Sum = Omit<UserTotal, "user">

const sumOf = (users: ReadonlyArray<Sum>) => {
  const dec = (f: (u: Sum) => string) =>
    formatDecimal(users.reduce((s, u) => BigDecimal.sum(s, BigDecimal.unsafeFromString(f(u))), BigDecimal.fromBigInt(0n)), 2)
  const n = (f: (u: Sum) => number) => users.reduce((s, u) => s + f(u), 0)
  return {
    requests: n((u) => u.requests),
    inputTokens: n((u) => u.inputTokens),
    outputTokens: n((u) => u.outputTokens),
    totalTokens: n((u) => u.totalTokens),
    cachedTokens: n((u) => u.cachedTokens),
    reasoningTokens: n((u) => u.reasoningTokens),
    costUsd: dec((u) => u.costUsd),
    costPln: dec((u) => u.costPln)
  }
}

export class People extends Effect.Service<People>()("mai-usage/People", {
  effect: Effect.gen(function*() {
    const reports = yield* Reports
    const directory = yield* Directory

    const ofMonth = (month: string) =>
      Effect.gen(function*() {
        const [summary, state] = yield* Effect.all([reports.monthSummary(month), directory.state])
        const snap = state.snapshot
        const people = summary.users.map((u) => {
          const person = lookup(snap, u.user)
          return { total: u, person, groups: person === undefined ? [] : groupsOf(snap, person) }
        })
        const users = people.map(({ groups, person, total }) =>
          new PersonTotal({
            ...total,
            name: person?.name ?? null,
            email: person?.email ?? null,
            role: person?.role ?? null,
            groups: groups.map((g) => g.name).join("; ")
          })
        )
        const groups = (snap?.groups ?? []).map((g) => {
          const members = people.filter((p) => p.groups.some((x) => x.id === g.id)).map((p) => p.total)
          return new GroupTotal({ groupId: g.id, group: g.name, users: members.length, ...sumOf(members) })
        })
        const outside = people.filter((p) => p.groups.length === 0).map((p) => p.total)
        return new PeopleReport({
          month,
          directory: new DirectoryStatus({
            status: !state.configured ? "off" : state.error !== undefined ? "degraded" : snap === undefined ? "starting" : "ok",
            warning: state.error === undefined ? null : `Open WebUI's database cannot be read: ${state.error}`,
            layout: snap?.layout ?? null,
            readAt: snap?.readAt ?? null
          }),
          users,
          groups,
          outsideGroups: { users: outside.length, ...sumOf(outside) }
        })
      })

    return { ofMonth } as const
  })
}) {}
