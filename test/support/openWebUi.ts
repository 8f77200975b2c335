/**
 * Open WebUI's database for tests, built from its own models (backend/open_webui/models/users.py
 * and groups.py): the `user` table, the `group` table, and the members either in `group.user_ids`
 * (JSON, older versions) or in a `group_member` table (newer ones). In a real SQLite file, or in a
 * real PostgreSQL (its own cluster: initdb and pg_ctl from Debian's `postgresql`, a free port, a
 * temp folder, stopped by pid).
 */
import Database from "better-sqlite3"
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import pg from "pg"
import { freePort } from "./process.js"
import { reachableByServiceUsers, tempDir } from "./tmp.js"

export type Layout = "user_ids" | "group_member"

export interface WebUiUser {
  readonly id: string
  readonly name: string
  readonly email: string
  readonly role: string
}

export interface WebUiGroup {
  readonly id: string
  readonly name: string
  readonly members: ReadonlyArray<string>
}

export const PEOPLE: ReadonlyArray<WebUiUser> = [
  { id: "3f1c2a9e-anna", name: "Anna Kowalska", email: "anna.kowalska@example.pl", role: "admin" },
  { id: "7b2d4e1f-jan", name: "Jan Nowak", email: "jan.nowak@example.pl", role: "user" },
  { id: "9c8b7a6d-ewa", name: "Ewa Wiśniewska", email: "ewa.wisniewska@example.pl", role: "user" }
]

export const GROUPS: ReadonlyArray<WebUiGroup> = [
  { id: "g-sales", name: "Sprzedaż", members: ["3f1c2a9e-anna", "7b2d4e1f-jan"] },
  { id: "g-it", name: "IT", members: ["3f1c2a9e-anna", "9c8b7a6d-ewa"] }
]

/** The tables as Open WebUI's models define them (types as SQLAlchemy maps them on each database). */
const schema = (layout: Layout, json: string, bigint: string) => [
  `CREATE TABLE "user" (
    id VARCHAR NOT NULL PRIMARY KEY, name VARCHAR, email VARCHAR, role VARCHAR, profile_image_url TEXT,
    last_active_at ${bigint}, updated_at ${bigint}, created_at ${bigint}, api_key VARCHAR UNIQUE,
    settings ${json}, info ${json}, oauth_sub TEXT UNIQUE
  )`,
  `CREATE TABLE "group" (
    id TEXT NOT NULL PRIMARY KEY, user_id TEXT, name TEXT, description TEXT, data ${json}, meta ${json},
    permissions ${json},${layout === "user_ids" ? ` user_ids ${json},` : ""} created_at ${bigint}, updated_at ${bigint}
  )`,
  ...(layout === "group_member"
    ? [`CREATE TABLE group_member (
        id TEXT NOT NULL PRIMARY KEY, group_id TEXT NOT NULL REFERENCES "group"(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL, created_at ${bigint}, updated_at ${bigint}, UNIQUE (group_id, user_id)
      )`]
    : [])
]

const rows = (layout: Layout, users: ReadonlyArray<WebUiUser>, groups: ReadonlyArray<WebUiGroup>) => {
  const now = 1764000000
  const out: Array<[string, Array<unknown>]> = []
  for (const u of users) {
    out.push([
      `INSERT INTO "user" (id, name, email, role, profile_image_url, last_active_at, updated_at, created_at) VALUES ($1, $2, $3, $4, '/user.png', $5, $5, $5)`,
      [u.id, u.name, u.email, u.role, now]
    ])
  }
  for (const g of groups) {
    if (layout === "user_ids") {
      out.push([
        `INSERT INTO "group" (id, user_id, name, description, permissions, user_ids, created_at, updated_at) VALUES ($1, $2, $3, '', '{}', $4, $5, $5)`,
        [g.id, users[0].id, g.name, JSON.stringify(g.members), now]
      ])
    } else {
      out.push([
        `INSERT INTO "group" (id, user_id, name, description, permissions, created_at, updated_at) VALUES ($1, $2, $3, '', '{}', $4, $4)`,
        [g.id, users[0].id, g.name, now]
      ])
      for (const m of g.members) {
        out.push([`INSERT INTO group_member (id, group_id, user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`, [`${g.id}:${m}`, g.id, m, now]])
      }
    }
  }
  return out
}

/** A SQLite file like Open WebUI's webui.db; answers its DATABASE_URL. */
export const sqliteWebUi = (layout: Layout, users = PEOPLE, groups = GROUPS): { readonly url: string; readonly file: string } => {
  const file = Path.join(tempDir("mai-usage-webui-"), "webui.db")
  const db = new Database(file)
  for (const s of schema(layout, "JSON", "BIGINT")) db.exec(s)
  for (const [sql, params] of rows(layout, users, groups)) db.prepare(sql.replace(/\$\d+/g, "?")).run(...expand(sql, params))
  db.close()
  return { url: `sqlite:///${file}`, file }
}

/** `$n` placeholders in order of appearance (SQLite's `?` takes them positionally). */
const expand = (sql: string, params: Array<unknown>) => [...sql.matchAll(/\$(\d+)/g)].map((m) => params[Number(m[1]) - 1])

export interface Postgres {
  readonly port: number
  /** a database's URL with the password */
  readonly urlOf: (db: string) => string
  readonly createWebUi: (db: string, layout: Layout, users?: ReadonlyArray<WebUiUser>, groups?: ReadonlyArray<WebUiGroup>) => Promise<string>
  readonly stop: () => Promise<void>
}

const pgBin = (name: string) => {
  for (const dir of Fs.existsSync("/usr/lib/postgresql") ? Fs.readdirSync("/usr/lib/postgresql").sort().reverse() : []) {
    const p = `/usr/lib/postgresql/${dir}/bin/${name}`
    if (Fs.existsSync(p)) return p
  }
  throw new Error(`${name} not found: install Debian's postgresql`)
}

/** A system user's uid and gid (from /etc/passwd). */
export const userIds = (name: string): { uid: number; gid: number } => {
  const line = Fs.readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))
  if (line === undefined) throw new Error(`no user ${name} in /etc/passwd`)
  const [, , uid, gid] = line.split(":")
  return { uid: Number(uid), gid: Number(gid) }
}

const PASSWORD = "webui-test-password-0123"

/**
 * Its own cluster in a temp folder, on a free loopback port; password authentication. PostgreSQL
 * refuses to run as root: as root the folder is given to the `postgres` user and the programs run as it.
 */
export const startPostgres = async (): Promise<Postgres> => {
  const dir = tempDir("mai-usage-pg-")
  reachableByServiceUsers(dir)
  const data = Path.join(dir, "data")
  const pwfile = Path.join(dir, "pw")
  Fs.writeFileSync(pwfile, PASSWORD)
  // PostgreSQL refuses to run as root: as root, its folder and processes are the `postgres` user's.
  const as = process.getuid?.() === 0 ? userIds("postgres") : {}
  if ("uid" in as) execFileSync("chown", ["-R", "postgres:postgres", dir])
  execFileSync(pgBin("initdb"), ["-D", data, "-U", "webui", "--pwfile", pwfile, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"], { stdio: "pipe", ...as })
  const port = await freePort()
  const postgres = spawn(
    pgBin("postgres"),
    ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off"],
    { stdio: ["ignore", "pipe", "pipe"], ...as }
  )
  let log = ""
  postgres.stdout!.on("data", (d) => (log += d))
  postgres.stderr!.on("data", (d) => (log += d))
  const urlOf = (db: string) => `postgresql://webui:${PASSWORD}@127.0.0.1:${port}/${db}`
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: urlOf("postgres") })
    try {
      await c.connect()
      await c.end()
      break
    } catch (e) {
      await c.end().catch(() => undefined)
      if (i > 100 || postgres.exitCode !== null) throw new Error(`postgres did not start: ${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    port,
    urlOf,
    createWebUi: async (db, layout, users = PEOPLE, groups = GROUPS) => {
      const admin = new pg.Client({ connectionString: urlOf("postgres") })
      await admin.connect()
      await admin.query(`CREATE DATABASE ${db}`)
      await admin.end()
      const c = new pg.Client({ connectionString: urlOf(db) })
      await c.connect()
      for (const s of schema(layout, "JSON", "BIGINT")) await c.query(s)
      for (const [sql, params] of rows(layout, users, groups)) await c.query(sql, params)
      await c.end()
      return urlOf(db)
    },
    stop: async () => {
      if (postgres.exitCode !== null) return
      const exited = new Promise((r) => postgres.once("exit", r))
      // SIGINT: PostgreSQL's fast shutdown (clients disconnected, no waiting for them).
      process.kill(postgres.pid!, "SIGINT")
      await exited
    }
  }
}
