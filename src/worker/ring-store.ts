/**
 * The Durable Object that holds the truth for a deployment: the origins, their administrative
 * state and the epoch, in SQLite. Isolates read snapshots from it in the background; no client
 * request waits on it in steady state.
 */
import { DurableObject } from "cloudflare:workers";
import { parseOrigins, type FieldError, type OriginConfig } from "../core/config.ts";
import type { AdminState, OriginRecord, Snapshot } from "../core/routing-table.ts";
import type { Env } from "./env.ts";

/** The one object name every isolate talks to. */
export const RING_OBJECT_NAME = "ring";

/** A snapshot plus what the object knows about its bootstrap list. */
export interface StoreSnapshot extends Snapshot {
  /** Why the current ORIGINS variable was not applied, if it was not. */
  readonly bootstrapErrors: readonly FieldError[];
}

/**
 * A refresh answer: the full origin list, or null in place of it when the caller already holds
 * this epoch (the steady state: a few bytes instead of the whole list, ~100 KB at 1,000 origins).
 */
export interface SnapshotUpdate {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[] | null;
  readonly bootstrapErrors: readonly FieldError[];
}

/** The result of a state change. */
export type StateChange =
  | { readonly ok: true; readonly epoch: number }
  | { readonly ok: false; readonly status: 400 | 404; readonly error: string };

const STATES: readonly AdminState[] = ["active", "draining", "disabled"];

interface OriginRow extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  weight: number;
  region: string | null;
  state: string;
}

/** Holds origins and the epoch; seeds itself from ORIGINS and re-applies ORIGINS when it changes. */
export class RingStore extends DurableObject<Env> {
  private cached: StoreSnapshot | null = null;
  private bootstrapErrors: FieldError[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // SQLite storage is synchronous, so this finishes before any call is delivered; no
    // blockConcurrencyWhile needed. A new deployment (new variables) restarts the object, so this
    // is where a changed ORIGINS list is noticed.
    this.migrate();
    this.applyBootstrap();
  }

  /** The current snapshot: epoch and origins sorted by id. */
  async getSnapshot(): Promise<StoreSnapshot> {
    this.cached ??= this.readSnapshot();
    return this.cached;
  }

  /** The snapshot, without the origin list when `knownEpoch` is already current. */
  async getUpdate(knownEpoch: number | null): Promise<SnapshotUpdate> {
    const snapshot = await this.getSnapshot();
    return knownEpoch === snapshot.epoch ? { ...snapshot, origins: null } : snapshot;
  }

  /** Sets an origin's administrative state; bumps the epoch when it changes. */
  async setOriginState(id: string, state: string): Promise<StateChange> {
    if (!STATES.includes(state as AdminState)) {
      return {
        ok: false,
        status: 400,
        error: `state: must be one of ${STATES.join(", ")}`,
      };
    }
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync((): StateChange => {
      const row = sql.exec<{ state: string }>("SELECT state FROM origins WHERE id = ?", id).toArray()[0];
      if (row === undefined) return { ok: false, status: 404, error: `id: no origin "${id}"` };
      if (row.state !== state) {
        sql.exec("UPDATE origins SET state = ? WHERE id = ?", state, id);
        this.bumpEpoch();
      }
      this.cached = null;
      return { ok: true, epoch: this.readEpoch() };
    });
  }

  private migrate(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS origins (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      weight REAL NOT NULL,
      region TEXT,
      state TEXT NOT NULL DEFAULT 'active'
    )`);
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  /**
   * ORIGINS seeds an empty object. Afterwards the stored state is the truth, and ORIGINS is applied
   * again only when it differs from the list it was last applied from (a deploy that edits it):
   * then ids missing from ORIGINS are removed, new ids are added as active, and existing ids take
   * the new url / weight / region but keep their administrative state. An invalid ORIGINS changes
   * nothing; the errors are reported in every snapshot.
   */
  private applyBootstrap(): void {
    const parsed = parseOrigins(this.env.ORIGINS);
    if (!parsed.ok) {
      this.bootstrapErrors = parsed.errors;
      console.error(`ORIGINS not applied: ${parsed.errors.map((e) => `${e.field} ${e.message}`).join("; ")}`);
      return;
    }
    this.bootstrapErrors = [];
    const fingerprint = JSON.stringify(parsed.value);
    if (this.readMeta("bootstrap") === fingerprint) return;
    this.ctx.storage.transactionSync(() => {
      if (this.replaceOrigins(parsed.value)) this.bumpEpoch();
      this.writeMeta("bootstrap", fingerprint);
    });
    this.cached = null;
  }

  /** Makes the stored origin set equal `origins`, keeping states; true if anything changed. */
  private replaceOrigins(origins: readonly OriginConfig[]): boolean {
    const sql = this.ctx.storage.sql;
    const existing = new Map(
      sql
        .exec<OriginRow>("SELECT * FROM origins")
        .toArray()
        .map((row) => [row.id, row]),
    );
    let changed = false;
    const wanted = new Set(origins.map((origin) => origin.id));
    for (const id of existing.keys()) {
      if (!wanted.has(id)) {
        sql.exec("DELETE FROM origins WHERE id = ?", id);
        changed = true;
      }
    }
    for (const origin of origins) {
      const row = existing.get(origin.id);
      if (row === undefined) {
        sql.exec(
          "INSERT INTO origins (id, url, weight, region, state) VALUES (?, ?, ?, ?, 'active')",
          origin.id,
          origin.url,
          origin.weight,
          origin.region,
        );
        changed = true;
      } else if (row.url !== origin.url || row.weight !== origin.weight || row.region !== origin.region) {
        sql.exec(
          "UPDATE origins SET url = ?, weight = ?, region = ? WHERE id = ?",
          origin.url,
          origin.weight,
          origin.region,
          origin.id,
        );
        changed = true;
      }
    }
    return changed;
  }

  private readSnapshot(): StoreSnapshot {
    const rows = this.ctx.storage.sql
      .exec<OriginRow>("SELECT id, url, weight, region, state FROM origins ORDER BY id")
      .toArray();
    const origins: OriginRecord[] = rows.map((row) => ({
      id: row.id,
      url: row.url,
      weight: row.weight,
      region: row.region,
      state: row.state as AdminState,
    }));
    return {
      epoch: this.readEpoch(),
      origins,
      bootstrapErrors: this.bootstrapErrors,
    };
  }

  private readEpoch(): number {
    return Number(this.readMeta("epoch") ?? "0");
  }

  private bumpEpoch(): void {
    this.writeMeta("epoch", String(this.readEpoch() + 1));
  }

  private readMeta(key: string): string | null {
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  private writeMeta(key: string, value: string): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}
