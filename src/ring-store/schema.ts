/**
 * The object's SQLite schema as numbered steps (the shape of cloudflare/actors'
 * sql-schema-migrations.ts). At every start, before any call is delivered, the steps after the
 * last applied one run in order and the last id is stored in meta under "migration". An applied
 * step is never edited: a schema change is a new step at the end. Every step is idempotent,
 * because objects created before the steps were numbered have the tables but no id: they run
 * every step once more, and each finds its work done.
 */
import { readMeta, writeMeta } from "./meta.ts";

/** One schema step. */
export interface Migration {
  /** Its place in the order; ids only grow. */
  readonly id: number;
  readonly description: string;
  readonly run: (sql: SqlStorage) => void;
}

/** Every step, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    description: "origins: id, url, weight, region, administrative state",
    run: (sql) =>
      sql.exec(`CREATE TABLE IF NOT EXISTS origins (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      weight REAL NOT NULL,
      region TEXT,
      state TEXT NOT NULL DEFAULT 'active'
    )`),
  },
  {
    id: 2,
    description: "meta: one text value per key",
    run: (sql) => sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
  },
  {
    id: 3,
    description: "schema 2: the origins' drain start and health record",
    // Schema 2: drain start and the health record (JSON of core/health.ts HealthRecord).
    run: (sql) => {
      if (readMeta(sql, "schema") !== null) return;
      const columns = sql
        .exec<{ name: string }>("PRAGMA table_info(origins)")
        .toArray()
        .map((c) => c.name);
      if (!columns.includes("drain_started_at")) sql.exec("ALTER TABLE origins ADD COLUMN drain_started_at INTEGER");
      if (!columns.includes("health")) sql.exec("ALTER TABLE origins ADD COLUMN health TEXT");
      writeMeta(sql, "schema", "2");
    },
  },
  {
    id: 4,
    description: "audit: the admin audit log",
    // The admin audit log (newest AUDIT_KEEP entries).
    run: (sql) =>
      sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      epoch INTEGER NOT NULL,
      action TEXT NOT NULL,
      detail TEXT NOT NULL,
      actor TEXT
    )`),
  },
  {
    id: 5,
    description: "schema 4: pool_layouts, one slot layout per pool",
    // Schema 4: one slot layout per pool (owners as little-endian uint16 per slot). Schema 3 had
    // one layout for all origins: it becomes the catch-all pool's (step 7), and syncLayout re-pools it.
    run: (sql) =>
      sql.exec(`CREATE TABLE IF NOT EXISTS pool_layouts (
      pool TEXT PRIMARY KEY,
      epoch INTEGER NOT NULL,
      slots_per_member INTEGER NOT NULL,
      ids TEXT NOT NULL,
      weights TEXT NOT NULL,
      owners BLOB NOT NULL
    )`),
  },
  {
    id: 6,
    description: "regions: the regional pools",
    // The regional pools (REGIONS; countries and continents as JSON arrays); DEFAULT_REGION in meta.
    run: (sql) =>
      sql.exec(`CREATE TABLE IF NOT EXISTS regions (
      id TEXT PRIMARY KEY,
      latitude REAL NOT NULL,
      longitude REAL NOT NULL,
      countries TEXT NOT NULL,
      continents TEXT NOT NULL
    )`),
  },
  {
    id: 7,
    description: "schema 3 to 4: the single layout becomes the catch-all pool's, its epoch carried on",
    run: (sql) => {
      // PRAGMA table_info lists no columns for a table that does not exist.
      const old = sql.exec("PRAGMA table_info(layout)").toArray();
      if (old.length === 0) return;
      sql.exec(
        `INSERT OR IGNORE INTO pool_layouts (pool, epoch, slots_per_member, ids, weights, owners)
         SELECT '', epoch, slots_per_member, ids, weights, owners FROM layout WHERE id = 1`,
      );
      // The layouts' version goes on from the old layout's, so no isolate mistakes it for one it holds.
      const epoch = sql.exec<{ epoch: number }>("SELECT epoch FROM layout WHERE id = 1").toArray()[0]?.epoch;
      if (epoch !== undefined) writeMeta(sql, "layout_epoch", String(epoch));
      sql.exec("DROP TABLE layout");
    },
  },
  {
    id: 8,
    description: "revoked status-page sessions (logout)",
    run: (sql) =>
      sql.exec("CREATE TABLE IF NOT EXISTS revoked_sessions (sid TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)"),
  },
  {
    id: 9,
    description: "health events: the condition last announced per origin, and the alert outbox",
    // health_announced: what was last logged per origin (health-announcer.ts compares with it);
    // alert_outbox: alerts not yet delivered, so a restart loses none (alert-delivery.ts).
    run: (sql) => {
      sql.exec(`CREATE TABLE IF NOT EXISTS health_announced (
      id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      ejected INTEGER NOT NULL
    )`);
      sql.exec(`CREATE TABLE IF NOT EXISTS alert_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      body TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL,
      last_error TEXT
    )`);
    },
  },
];

/** The tables the steps leave behind; a stored id is trusted only while they are all there. */
const TABLES = ["origins", "meta", "audit", "pool_layouts", "regions", "health_announced", "alert_outbox"];

/** Runs the steps after the last applied one, then stores the last id. */
export function migrate(sql: SqlStorage): void {
  const applied = appliedMigration(sql);
  for (const step of MIGRATIONS) {
    if (step.id > applied) step.run(sql);
  }
  const last = MIGRATIONS[MIGRATIONS.length - 1]!.id;
  if (applied !== last) writeMeta(sql, "migration", String(last));
}

/**
 * The id of the last step applied; 0 for a new object and for one created before the steps were
 * numbered (its tables are there, its id is not: every step runs, finding its work done). A stored
 * id whose tables are missing (storage rebuilt by hand, as the schema-3 upgrade test does) is not
 * trusted either: every step runs again.
 */
function appliedMigration(sql: SqlStorage): number {
  const tables = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((t) => t.name),
  );
  if (!TABLES.every((table) => tables.has(table))) return 0;
  return Number(readMeta(sql, "migration") ?? "0");
}
