/**
 * The user directory read from Open WebUI's database as its models define it: a real SQLite file
 * and a real PostgreSQL (its own cluster), each with both membership layouts (`group.user_ids`
 * JSON, and the `group_member` table). An unreadable directory is an error to report, never a crash.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { groupsOf, lookup, readDirectory } from "../../src/directory/Directory.js"
import { GROUPS, type Layout, PEOPLE, type Postgres, sqliteWebUi, startPostgres } from "../support/openWebUi.js"

const expected = (layout: Layout) => ({
  users: PEOPLE.map((p) => ({ ...p })).sort((a, b) => a.name.localeCompare(b.name)),
  groups: GROUPS.map((g) => ({ ...g, members: [...g.members] })).sort((a, b) => (a.name < b.name ? -1 : 1)),
  layout
})

const check = async (url: string, layout: Layout) => {
  const snapshot = await Effect.runPromise(readDirectory(url))
  expect({ users: snapshot.users, groups: snapshot.groups.map((g) => ({ ...g, members: [...g.members].sort() })), layout: snapshot.layout }).toEqual(expected(layout))
  // The ledger's user is an Open WebUI id or an e-mail (any case).
  expect(lookup(snapshot, PEOPLE[1].id)?.name).toBe("Jan Nowak")
  expect(lookup(snapshot, "JAN.NOWAK@example.pl")?.id).toBe(PEOPLE[1].id)
  expect(lookup(snapshot, "someone-else")).toBeUndefined()
  // Anna is in both groups.
  expect(groupsOf(snapshot, PEOPLE[0]).map((g) => g.name).sort()).toEqual(["IT", "Sprzedaż"])
}

describe("Open WebUI's database over SQLite", () => {
  for (const layout of ["user_ids", "group_member"] as const) {
    it(`reads users and groups (${layout})`, async () => {
      await check(sqliteWebUi(layout).url, layout)
    })
  }

  it("fails with a reason, not a crash, when the file is missing", async () => {
    const result = await Effect.runPromise(Effect.either(readDirectory("sqlite:////nonexistent/webui.db")))
    expect(result._tag).toBe("Left")
    expect(result._tag === "Left" && result.left.message).toContain("no such file: /nonexistent/webui.db")
  })
})

describe("Open WebUI's database over PostgreSQL", () => {
  let pg: Postgres
  beforeAll(async () => {
    pg = await startPostgres()
  })
  afterAll(async () => {
    await pg?.stop()
  })

  for (const layout of ["user_ids", "group_member"] as const) {
    it(`reads users and groups (${layout})`, async () => {
      await check(await pg.createWebUi(`webui_${layout}`, layout), layout)
    })
  }

  it("fails with a reason that never shows the password when the database refuses", async () => {
    const url = pg.urlOf("webui_user_ids").replace("webui-test-password-0123", "wrong-password-0123")
    const result = await Effect.runPromise(Effect.either(readDirectory(url)))
    expect(result._tag).toBe("Left")
    const message = result._tag === "Left" ? result.left.message : ""
    expect(message).not.toContain("wrong-password")
    expect(message).not.toContain("webui-test-password")
  })
})
