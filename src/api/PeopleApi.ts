/**
 * The people report's contract (admin): a month's billed usage per user with the name, e-mail and
 * groups Open WebUI's directory gives, and per group (a user in two groups counts in both). As CSV
 * too (`?format=csv&list=users|groups`). Handlers in `http/PeopleHttp.ts`.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { CsvDialectParam, CsvLangParam } from "../domain/Csv.js"
import { Month } from "../domain/WarsawDay.js"
import { adminGroup } from "./AdminAuth.js"
import { Unavailable } from "./ApiErrors.js"
import { Sums, sumColumns } from "./Fields.js"

export class DirectoryStatus extends Schema.Class<DirectoryStatus>("DirectoryStatus")({
  /** off: DATABASE_URL unset; ok; degraded: it cannot be read (ids are shown as they are); starting */
  status: Schema.Literal("off", "ok", "degraded", "starting"),
  warning: Schema.NullOr(Schema.String),
  layout: Schema.NullOr(Schema.Literal("group_member", "user_ids", "none")),
  readAt: Schema.NullOr(Schema.String)
}) {}

export class PersonTotal extends Schema.Class<PersonTotal>("PersonTotal")({
  /** the ledger's user: what Open WebUI sent as OpenRouter's `user` (an id or an e-mail) */
  user: Schema.String,
  name: Schema.NullOr(Schema.String),
  email: Schema.NullOr(Schema.String),
  role: Schema.NullOr(Schema.String),
  /** the names of the user's groups, "; "-separated */
  groups: Schema.String,
  ...Sums
}) {}
export const personColumns = ["user", "name", "email", "role", "groups", ...sumColumns] as const

export class GroupTotal extends Schema.Class<GroupTotal>("GroupTotal")({
  groupId: Schema.String,
  group: Schema.String,
  /** the group's members with usage in the month */
  users: Schema.Number,
  ...Sums
}) {}
export const groupColumns = ["groupId", "group", "users", ...sumColumns] as const

export class PeopleReport extends Schema.Class<PeopleReport>("PeopleReport")({
  month: Schema.String,
  directory: DirectoryStatus,
  users: Schema.Array(PersonTotal),
  /** per group; a user in two groups counts in both, so the groups' totals may add up to more than the month's */
  groups: Schema.Array(GroupTotal),
  /** usage of users in no group (or unknown to the directory) */
  outsideGroups: Schema.Struct({ users: Schema.Number, ...Sums })
}) {}

const List = Schema.Literal("users", "groups")

export class PeopleApi extends adminGroup("people")
  .add(
    HttpApiEndpoint.get("month", "/")
      .setUrlParams(Schema.Struct({
        month: Month,
        format: Schema.optional(Schema.Literal("json", "csv")),
        list: Schema.optional(List),
        dialect: Schema.optional(CsvDialectParam),
        lang: Schema.optional(CsvLangParam)
      }))
      .addSuccess(PeopleReport)
      .addError(Unavailable)
      .annotateContext(OpenApi.annotations({
        description: "A month's billed usage per user, with the name, e-mail, role and groups from Open WebUI's " +
          "database (DATABASE_URL; matched by id or e-mail), and per group. A user in two groups counts in both " +
          "groups' totals. Without a readable directory, users are shown by their ids and there are no groups. " +
          "CSV: `format=csv` with `list=users` (default) or `list=groups`."
      }))
  )
  .prefix("/api/v1/people")
{}
