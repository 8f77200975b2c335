/** The handler of `PeopleApi`: the people report as JSON, or one of its lists as CSV. */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { MaiApi } from "../api/Api.js"
import { unavailable } from "../api/ApiErrors.js"
import { groupColumns, personColumns } from "../api/PeopleApi.js"
import { headersOf, toCsv } from "../domain/Csv.js"
import { AppConfig } from "../platform/Config.js"
import { People } from "../reporting/People.js"
import { csvResponse, wantsCsv } from "./UsageHttp.js"

const textColumns = ["user", "name", "email", "role", "groups", "groupId", "group"] as const

export const PeopleApiLive = HttpApiBuilder.group(MaiApi, "people", (handlers) =>
  Effect.gen(function*() {
    const people = yield* People
    const { clientOrgId } = yield* AppConfig
    return handlers.handle("month", ({ request, urlParams }) =>
      Effect.gen(function*() {
        const report = yield* Effect.mapError(people.ofMonth(urlParams.month), unavailable)
        if (!wantsCsv(urlParams, request)) return report
        const list = urlParams.list ?? "users"
        const options = { dialect: urlParams.dialect, textColumns, headers: headersOf(urlParams.lang) }
        const body = list === "users" ? toCsv(personColumns, report.users, options) : toCsv(groupColumns, report.groups, options)
        return csvResponse(`mai-usage_${clientOrgId}_${urlParams.month}_people_${list}`, body)
      }))
  }))
