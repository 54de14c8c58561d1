/**
 * The Durable Object that holds the truth for a deployment: the origins, their administrative
 * state, their health and the epoch, in SQLite. Isolates read snapshots from it in the background
 * and send it batched traffic reports; no client request waits on it in steady state. It probes
 * every origin on the cron trigger and on its own alarm (finer than cron's one minute).
 */
import { DurableObject } from "cloudflare:workers";
import { MAX_ORIGINS, parseOrigins } from "../core/config/origins.ts";
import { parseSettings, type Settings } from "../core/config/settings.ts";
import { type FieldError } from "../core/result.ts";
import {
  type OriginConfig,
  type AdminState,
  type OriginRecord,
  type Snapshot,
  poolOf,
  type Region,
} from "../core/model.ts";
import {
  applyProbe,
  applyReport,
  fastInterval,
  INITIAL_HEALTH,
  isEjected,
  isSettled,
  toView,
  validateReport,
  type HealthRecord,
  type HealthSettings,
  type ProbeResult,
} from "../core/health/health.ts";
import {
  layoutMatches,
  layoutShares,
  SLOTS_PER_MEMBER,
  updateLayout,
  type SlotLayout,
} from "../core/ring/slot-ring.ts";
import { previewPools, type AdminChange, type Preview } from "../core/admin/admin.ts";
import type { Vars } from "../worker/vars.ts";
import { probeOrigin } from "./prober.ts";

export { RING_OBJECT_NAME } from "./object-name.ts";

/** A snapshot plus what the object knows about its bootstrap list. */
export interface StoreSnapshot extends Snapshot {
  /** Every pool's slot layout, by pool id (the catch-all pool is ""). */
  readonly layouts: Readonly<Record<string, SlotLayout>>;
  readonly layoutEpoch: number;
  /** The regional pools as the object holds them (seeded from REGIONS, changed by the admin API). */
  readonly regions: readonly Region[];
  readonly defaultRegion: string | null;
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
  /** The layouts' version; the layouts themselves (~2 bytes per slot) only when the caller lacks it. */
  readonly layoutEpoch: number;
  readonly layouts: Readonly<Record<string, SlotLayout>> | null;
  /** The regions, with the origin list (null when it is null): they change with the epoch. */
  readonly regions: readonly Region[] | null;
  readonly defaultRegion: string | null;
  readonly bootstrapErrors: readonly FieldError[];
}

/** What a report answers: the epoch after the merge, and the update when the reporter's epoch is stale. */
export interface ReportAnswer {
  readonly epoch: number;
  readonly update: SnapshotUpdate | null;
}

/** The result of a state change. */
export type StateChange =
  | { readonly ok: true; readonly epoch: number }
  | { readonly ok: false; readonly status: 400 | 404; readonly error: string };

/** Options of an admin change. */
export interface ChangeOptions {
  /** Compare-and-set: refuse (409) unless the epoch is still this one. */
  readonly ifMatch?: number | null;
  /** Compute the preview and change nothing. */
  readonly dryRun?: boolean;
  /** Who asked, for the audit log (never the token). */
  readonly actor?: string;
}

/** The result of an admin change: the preview either way, or why it was refused (nothing changed). */
export type ChangeResult =
  | {
      readonly ok: true;
      readonly dryRun: boolean;
      /** The epoch after the change (unchanged for a dry run or a no-op). */
      readonly epoch: number;
      readonly changed: boolean;
      readonly preview: Preview;
    }
  | { readonly ok: false; readonly status: 404 | 409; readonly field: string; readonly error: string };

/** An origin as the admin API lists it. */
export interface AdminOrigin extends OriginRecord {
  /** Share of the key space it owns in the slot layout (its clients when every origin is up). */
  readonly share: number;
  readonly healthDetail: HealthRecord;
}

/** One audit log entry. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: number;
  /** The epoch the change produced. */
  readonly epoch: number;
  readonly action: string;
  readonly detail: unknown;
  readonly actor: string | null;
}

/** Audit entries kept (older ones are deleted as new ones come). */
export const AUDIT_KEEP = 1_000;

/** What a probe round did. */
export interface RoundResult {
  readonly ran: boolean;
  /**
   * Why it did not run: another round in flight, one ran less than half an interval ago, or (a
   * fast round) every origin is settled up.
   */
  readonly skipped?: "in-flight" | "too-soon" | "misconfigured" | "all-settled";
  readonly probed: number;
  /** Results dropped because their origin was removed or changed while it was probed. */
  readonly dropped: number;
  readonly epoch: number;
}

/** One entry of an isolate's traffic report. */
export interface ReportEntry {
  readonly id: string;
  readonly successes: number;
  readonly failures: number;
  readonly trailingFailures: number;
}

/** Everything the status page shows about one origin's health. */
export interface OriginHealthDetail {
  readonly id: string;
  readonly state: AdminState;
  readonly drainStartedAt: number | null;
  readonly health: HealthRecord;
}

const STATES: readonly AdminState[] = ["active", "draining", "disabled"];

/** Cron-only deployments (HEALTH_INTERVAL_MS 0) still never count two rounds within this gap. */
const CRON_ROUND_GAP_MS = 30_000;

interface OriginRow extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  weight: number;
  region: string | null;
  state: string;
  drain_started_at: number | null;
  health: string | null;
}

/** Holds origins, health and the epoch; seeds itself from ORIGINS and re-applies ORIGINS when it changes. */
export class RingStore extends DurableObject<Vars> {
  private cached: StoreSnapshot | null = null;
  private bootstrapErrors: FieldError[] = [];
  private roundInFlight = false;
  private readonly settings: Settings | null;
  /** Calls served since this object started, by method: what `npm run bench` counts per 10,000 requests. */
  private readonly calls = { getUpdate: 0, report: 0, probeRound: 0 };
  /** Injectable for tests. */
  now: () => number = Date.now;

  constructor(ctx: DurableObjectState, env: Vars) {
    super(ctx, env);
    const parsed = parseSettings(env as unknown as Record<string, unknown>);
    this.settings = parsed.ok ? parsed.value : null;
    if (!parsed.ok)
      console.error(`settings invalid: ${parsed.errors.map((e) => `${e.field} ${e.message}`).join("; ")}`);
    // SQLite storage is synchronous, so this finishes before any call is delivered. A new
    // deployment (new variables) restarts the object, so this is where a changed ORIGINS is noticed.
    this.migrate();
    this.applyRegionBootstrap();
    this.applyBootstrap();
    // A changed RING_SLOTS_PER_ORIGIN (or a schema upgrade) takes effect here.
    this.ctx.storage.transactionSync(() => {
      if (this.syncLayout()) this.bumpEpoch();
    });
    void ctx.blockConcurrencyWhile(() => this.armAlarm());
  }

  /** The current snapshot: epoch and origins sorted by id. */
  async getSnapshot(): Promise<StoreSnapshot> {
    this.cached ??= this.readSnapshot();
    return this.cached;
  }

  /** The snapshot, without the origin list when `knownEpoch` is already current. */
  async getUpdate(knownEpoch: number | null, knownLayoutEpoch: number | null = null): Promise<SnapshotUpdate> {
    this.calls.getUpdate++;
    return this.updateSince(knownEpoch, knownLayoutEpoch);
  }

  private async updateSince(knownEpoch: number | null, knownLayoutEpoch: number | null): Promise<SnapshotUpdate> {
    const snapshot = await this.getSnapshot();
    const { layoutEpoch } = snapshot;
    const known = knownEpoch === snapshot.epoch;
    return {
      epoch: snapshot.epoch,
      origins: known ? null : snapshot.origins,
      layoutEpoch,
      layouts: knownLayoutEpoch === layoutEpoch ? null : snapshot.layouts,
      regions: known ? null : snapshot.regions,
      defaultRegion: snapshot.defaultRegion,
      bootstrapErrors: snapshot.bootstrapErrors,
    };
  }

  /** Every origin with its state, health and exact share of the key space, at one epoch. */
  async listOrigins(): Promise<{
    readonly epoch: number;
    readonly layoutEpoch: number;
    readonly origins: AdminOrigin[];
  }> {
    const snapshot = await this.getSnapshot();
    // Each origin's share is of its own pool's key space (the clients steered to that pool).
    const shares = layoutShares(Object.values(snapshot.layouts));
    const health = new Map(this.readRows().map((row) => [row.id, readHealth(row)]));
    return {
      epoch: snapshot.epoch,
      layoutEpoch: snapshot.layoutEpoch,
      origins: snapshot.origins.map((origin) => ({
        ...origin,
        share: shares.get(origin.id) ?? 0,
        healthDetail: health.get(origin.id) ?? INITIAL_HEALTH,
      })),
    };
  }

  /**
   * Applies one admin change atomically (or only previews it): validated against the stored state
   * inside one transaction, so a refused change writes nothing. The shape of `change` is checked by
   * core/admin.ts before it gets here.
   */
  async applyChange(change: AdminChange, options: ChangeOptions = {}): Promise<ChangeResult> {
    const now = this.now();
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync((): ChangeResult => {
      const epoch = this.readEpoch();
      if (options.ifMatch !== undefined && options.ifMatch !== null && options.ifMatch !== epoch) {
        return { ok: false, status: 409, field: "If-Match", error: `epoch is ${epoch}, not ${options.ifMatch}` };
      }
      if (change.op === "set-regions") return this.applyRegions(change, options, now);
      const rows = this.readRows();
      const id = change.op === "add" ? change.origin.id : change.id;
      const row = rows.find((candidate) => candidate.id === id);
      if (change.op === "add") {
        if (row !== undefined) return { ok: false, status: 409, field: "id", error: `origin "${id}" already exists` };
        if (rows.length >= MAX_ORIGINS) {
          return {
            ok: false,
            status: 409,
            field: "id",
            error: `already ${rows.length} origins; at most ${MAX_ORIGINS}`,
          };
        }
      } else if (row === undefined) {
        return { ok: false, status: 404, field: "id", error: `no origin "${id}"` };
      }

      const before = this.readSnapshot();
      const records = new Map(before.origins.map((origin) => [origin.id, origin]));
      const write: (() => void)[] = [];
      if (change.op === "add") {
        const health = JSON.stringify(INITIAL_HEALTH);
        records.set(id, {
          ...change.origin,
          state: change.state,
          drainStartedAt: change.state === "draining" ? now : null,
          health: toView(INITIAL_HEALTH),
        });
        write.push(() =>
          sql.exec(
            "INSERT INTO origins (id, url, weight, region, state, drain_started_at, health) VALUES (?, ?, ?, ?, ?, ?, ?)",
            id,
            change.origin.url,
            change.origin.weight,
            change.origin.region,
            change.state,
            change.state === "draining" ? now : null,
            health,
          ),
        );
      } else if (change.op === "remove") {
        records.delete(id);
        write.push(() => sql.exec("DELETE FROM origins WHERE id = ?", id));
      } else if (change.op === "update") {
        const current = records.get(id)!;
        const next = { ...current, ...change.fields };
        const same = next.url === current.url && next.weight === current.weight && next.region === current.region;
        if (same) return { ok: true, dryRun: options.dryRun === true, epoch, changed: false, preview: noMoves() };
        // A new address is a new server: its health starts over (as with an edited ORIGINS).
        const health = next.url === current.url ? row!.health : JSON.stringify(INITIAL_HEALTH);
        records.set(id, next.url === current.url ? next : { ...next, health: toView(INITIAL_HEALTH) });
        write.push(() =>
          sql.exec(
            "UPDATE origins SET url = ?, weight = ?, region = ?, health = ? WHERE id = ?",
            next.url,
            next.weight,
            next.region,
            health,
            id,
          ),
        );
      } else {
        if (row!.state === change.state) {
          return { ok: true, dryRun: options.dryRun === true, epoch, changed: false, preview: noMoves() };
        }
        const health = readHealth(row!);
        // Re-activation starts a slow start; draining starts the drain ramp.
        const nextHealth = change.state === "active" ? { ...health, recoveredAt: now } : health;
        const drainStartedAt = change.state === "draining" ? now : null;
        records.set(id, { ...records.get(id)!, state: change.state, drainStartedAt, health: toView(nextHealth) });
        write.push(() =>
          sql.exec(
            "UPDATE origins SET state = ?, drain_started_at = ?, health = ? WHERE id = ?",
            change.state,
            drainStartedAt,
            JSON.stringify(nextHealth),
            id,
          ),
        );
      }

      const afterOrigins = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const regionIds = this.regionIds();
      const afterLayouts = this.layoutsFor(afterOrigins, before.layouts, before.layoutEpoch + 1, regionIds).layouts;
      const preview = previewPools(
        { ...before, regionIds },
        { layouts: afterLayouts, origins: afterOrigins, regionIds },
        now,
      );
      if (options.dryRun === true) return { ok: true, dryRun: true, epoch, changed: false, preview };

      for (const apply of write) apply();
      this.syncLayout();
      this.bumpEpoch();
      const newEpoch = this.readEpoch();
      this.audit(now, newEpoch, change.op, { ...change, moved: preview.share }, options.actor ?? null);
      return { ok: true, dryRun: false, epoch: newEpoch, changed: true, preview };
    });
  }

  /**
   * Replaces the regions (inside applyChange's transaction): origins whose region is no longer
   * declared join the catch-all pool, origins of a newly declared region leave it; every pool's
   * layout changes by the minimum.
   */
  private applyRegions(
    change: Extract<AdminChange, { op: "set-regions" }>,
    options: ChangeOptions,
    now: number,
  ): ChangeResult {
    const epoch = this.readEpoch();
    const before = this.readSnapshot();
    if (
      JSON.stringify(before.regions) === JSON.stringify(change.regions) &&
      before.defaultRegion === change.defaultRegion
    ) {
      return { ok: true, dryRun: options.dryRun === true, epoch, changed: false, preview: noMoves() };
    }
    const regionIds = new Set(change.regions.map((region) => region.id));
    const afterLayouts = this.layoutsFor(before.origins, before.layouts, before.layoutEpoch + 1, regionIds).layouts;
    const preview = previewPools(
      { ...before, regionIds: this.regionIds() },
      { layouts: afterLayouts, origins: before.origins, regionIds },
      now,
    );
    if (options.dryRun === true) return { ok: true, dryRun: true, epoch, changed: false, preview };
    this.writeRegions(change.regions, change.defaultRegion);
    this.syncLayout();
    this.bumpEpoch();
    const newEpoch = this.readEpoch();
    this.audit(now, newEpoch, change.op, { ...change, moved: preview.share }, options.actor ?? null);
    return { ok: true, dryRun: false, epoch: newEpoch, changed: true, preview };
  }

  /** The newest audit entries first; `before` pages back by sequence number. */
  async getAudit(limit = 100, before: number | null = null): Promise<AuditEntry[]> {
    const rows = this.ctx.storage.sql
      .exec<{ seq: number; at: number; epoch: number; action: string; detail: string; actor: string | null }>(
        "SELECT seq, at, epoch, action, detail, actor FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?",
        before ?? Number.MAX_SAFE_INTEGER,
        Math.max(1, Math.min(AUDIT_KEEP, Math.floor(limit))),
      )
      .toArray();
    return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as unknown }));
  }

  /** How many calls of each kind this instance has served since it started (in memory only). */
  async callCounts(): Promise<{ readonly getUpdate: number; readonly report: number; readonly probeRound: number }> {
    return { ...this.calls };
  }

  /** Every origin's full health record, for the status route. */
  async getHealth(): Promise<{
    readonly epoch: number;
    readonly lastRoundAt: number | null;
    readonly origins: OriginHealthDetail[];
  }> {
    const origins = this.readRows().map((row) => ({
      id: row.id,
      state: row.state as AdminState,
      drainStartedAt: row.drain_started_at,
      health: readHealth(row),
    }));
    const lastRound = this.readMeta("last_round_at");
    return { epoch: this.readEpoch(), lastRoundAt: lastRound === null ? null : Number(lastRound), origins };
  }

  /**
   * Sets an origin's administrative state; bumps the epoch when it changes. Draining starts the
   * drain ramp; becoming active again after draining or disabled starts a slow start.
   */
  async setOriginState(id: string, state: string): Promise<StateChange> {
    if (!STATES.includes(state as AdminState)) {
      return { ok: false, status: 400, error: `state: must be one of ${STATES.join(", ")}` };
    }
    const result = await this.applyChange({ op: "set-state", id, state: state as AdminState });
    if (!result.ok) return { ok: false, status: 404, error: `${result.field}: ${result.error}` };
    return { ok: true, epoch: result.epoch };
  }

  /**
   * Probes every origin concurrently ("all") or only the origins not settled up ("unsettled": the
   * fast rounds of HEALTH_FAST_INTERVAL_MS between full ones) and applies the verdicts. Safe to call
   * from the cron and the alarm at once, and for an alarm delivered twice: a round runs only when
   * no other is in flight, a full round only when the last one started at least half an interval
   * ago, and a fast round not within half a fast interval of a full one, so no result is counted
   * twice.
   */
  async probeRound(scope: "all" | "unsettled" = "all"): Promise<RoundResult> {
    this.calls.probeRound++;
    const settings = this.settings;
    const epoch = this.readEpoch();
    if (settings === null) return { ran: false, skipped: "misconfigured", probed: 0, dropped: 0, epoch };
    if (this.roundInFlight) return { ran: false, skipped: "in-flight", probed: 0, dropped: 0, epoch };
    const now = this.now();
    const fast = fastInterval(settings.healthIntervalMs, settings.healthFastIntervalMs);
    const gap =
      scope === "unsettled"
        ? fast / 2
        : settings.healthIntervalMs > 0
          ? settings.healthIntervalMs / 2
          : CRON_ROUND_GAP_MS;
    const last = this.readMeta("last_round_at");
    if (last !== null && now - Number(last) < gap && now >= Number(last)) {
      return { ran: false, skipped: "too-soon", probed: 0, dropped: 0, epoch };
    }
    const targets = this.readRows()
      .filter((row) => scope === "all" || !isSettled(readHealth(row)))
      .map((row) => ({ id: row.id, url: row.url }));
    if (targets.length === 0) return { ran: false, skipped: "all-settled", probed: 0, dropped: 0, epoch };
    if (scope === "all") this.writeMeta("last_round_at", String(now));
    this.roundInFlight = true;
    try {
      // fetch must be called unbound from `deps` (workerd: "Illegal invocation" otherwise).
      const deps = { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init), now: this.now };
      const results = await Promise.all(targets.map((t) => probeOrigin(t.url, settings, deps)));
      let dropped = 0;
      this.ctx.storage.transactionSync(() => {
        let changed = false;
        targets.forEach((target, i) => {
          const row = this.readRows(target.id)[0];
          // Removed or re-pointed while it was being probed: the verdict is about something else.
          if (row === undefined || row.url !== target.url) {
            dropped++;
            return;
          }
          changed = this.applyProbeResult(row, results[i]!, settings) || changed;
        });
        if (changed) this.bumpEpoch();
      });
      return { ran: true, probed: targets.length - dropped, dropped, epoch: this.readEpoch() };
    } finally {
      this.roundInFlight = false;
    }
  }

  /**
   * The alarm: re-arm first, then one probe round, so rounds start every HEALTH_INTERVAL_MS even
   * when a round is slow (1,000 origins take ~8 s through the 6-connection limit; re-arming after
   * the round made the cadence interval + round time). A full round when one is due, else a fast
   * round of the unsettled origins; while any origin is unsettled the next alarm comes after
   * HEALTH_FAST_INTERVAL_MS. A round still running when the next alarm fires is not overlapped:
   * probeRound skips it. Errors are logged, never thrown (a throw would retry the alarm).
   */
  override async alarm(): Promise<void> {
    const settings = this.settings;
    const interval = settings?.healthIntervalMs ?? 0;
    if (settings === null || interval <= 0) return;
    const fast = fastInterval(interval, settings.healthFastIntervalMs);
    const now = this.now();
    const last = this.readMeta("last_round_at");
    const full = fast === 0 || last === null || now - Number(last) >= interval - fast / 2 || now < Number(last);
    const nextFull = full ? now + interval : Number(last) + interval;
    const next = () => (fast > 0 && this.hasUnsettled() ? Math.min(nextFull, this.now() + fast) : nextFull);
    // Armed before the round (a slow or failing round keeps the cadence), and again after it with
    // what the round found: an origin it unsettled is probed again after the fast interval.
    await this.scheduleAlarm(next(), now);
    try {
      await this.probeRound(full ? "all" : "unsettled");
      await this.scheduleAlarm(next(), this.now());
    } catch (error) {
      console.error(`probe round failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Sets the alarm to `at` on this object's clock (`now`), as a wall-clock time. */
  private async scheduleAlarm(at: number, now: number): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now() + Math.max(0, at - now));
  }

  private hasUnsettled(): boolean {
    return this.readRows().some((row) => !isSettled(readHealth(row)));
  }

  /**
   * Merges one isolate's traffic report. Bounded input: at most one entry per origin, validated;
   * unknown ids are ignored. Returns the epoch and, when the isolate says which epoch it holds and
   * that is no longer current, what changed since (as getUpdate would answer): the isolate that
   * reported a death routes around it without a second call.
   */
  async report(
    entries: readonly ReportEntry[],
    knownEpoch: number | null = null,
    knownLayoutEpoch: number | null = null,
  ): Promise<ReportAnswer> {
    this.calls.report++;
    const answer = async (): Promise<ReportAnswer> => {
      const epoch = this.readEpoch();
      const stale = typeof knownEpoch === "number" && knownEpoch !== epoch;
      return { epoch, update: stale ? await this.updateSince(knownEpoch, knownLayoutEpoch) : null };
    };
    const settings = this.settings;
    if (settings === null || !Array.isArray(entries)) return answer();
    const now = this.now();
    this.ctx.storage.transactionSync(() => {
      const rows = this.readRows();
      const active = rows.filter((row) => row.state === "active");
      let ejectedNow = active.filter((row) => isEjected(readHealth(row), now)).length;
      const byId = new Map(rows.map((row) => [row.id, row]));
      let changed = false;
      for (const entry of entries.slice(0, rows.length)) {
        const row = typeof entry?.id === "string" ? byId.get(entry.id) : undefined;
        const report = validateReport(entry);
        if (row === undefined || report === null) continue;
        const before = readHealth(row);
        const result = applyReport(before, report, healthSettings(settings), now, { ejectedNow, total: active.length });
        if (!isEjected(before, now) && isEjected(result.health, now)) {
          ejectedNow++;
          console.warn(`origin ${row.id} ejected until ${new Date(result.health.ejectedUntil!).toISOString()}`);
        }
        this.writeHealth(row.id, result.health);
        changed = result.changed || changed;
      }
      if (changed) this.bumpEpoch();
    });
    return answer();
  }

  private applyProbeResult(row: OriginRow, result: ProbeResult, settings: Settings): boolean {
    const before = readHealth(row);
    const { health, changed } = applyProbe(before, result, healthSettings(settings));
    if (before.status !== health.status) {
      const log = health.status === "down" ? console.warn : console.log;
      log(`origin ${row.id} is ${health.status}${health.error === null ? "" : ` (${health.error})`}`);
    }
    this.writeHealth(row.id, health);
    return changed;
  }

  /** Arms the first alarm of a new object (or one whose alarm was lost); a pending one stays. */
  private async armAlarm(): Promise<void> {
    const interval = this.settings?.healthIntervalMs ?? 0;
    if (interval <= 0 || (await this.ctx.storage.getAlarm()) !== null) return;
    await this.ctx.storage.setAlarm(Date.now() + interval);
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
    // Schema 2: drain start and the health record (JSON of core/health.ts HealthRecord).
    if (this.readMeta("schema") === null) {
      const columns = sql
        .exec<{ name: string }>("PRAGMA table_info(origins)")
        .toArray()
        .map((c) => c.name);
      if (!columns.includes("drain_started_at")) sql.exec("ALTER TABLE origins ADD COLUMN drain_started_at INTEGER");
      if (!columns.includes("health")) sql.exec("ALTER TABLE origins ADD COLUMN health TEXT");
      this.writeMeta("schema", "2");
    }
    // The admin audit log (newest AUDIT_KEEP entries).
    sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      epoch INTEGER NOT NULL,
      action TEXT NOT NULL,
      detail TEXT NOT NULL,
      actor TEXT
    )`);
    // Schema 4: one slot layout per pool (owners as little-endian uint16 per slot). Schema 3 had
    // one layout for all origins: it becomes the catch-all pool's, and syncLayout re-pools it.
    sql.exec(`CREATE TABLE IF NOT EXISTS pool_layouts (
      pool TEXT PRIMARY KEY,
      epoch INTEGER NOT NULL,
      slots_per_member INTEGER NOT NULL,
      ids TEXT NOT NULL,
      weights TEXT NOT NULL,
      owners BLOB NOT NULL
    )`);
    // The regional pools (REGIONS; countries and continents as JSON arrays); DEFAULT_REGION in meta.
    sql.exec(`CREATE TABLE IF NOT EXISTS regions (
      id TEXT PRIMARY KEY,
      latitude REAL NOT NULL,
      longitude REAL NOT NULL,
      countries TEXT NOT NULL,
      continents TEXT NOT NULL
    )`);
    // PRAGMA table_info lists no columns for a table that does not exist.
    const old = sql.exec("PRAGMA table_info(layout)").toArray();
    if (old.length > 0) {
      sql.exec(
        `INSERT OR IGNORE INTO pool_layouts (pool, epoch, slots_per_member, ids, weights, owners)
         SELECT '', epoch, slots_per_member, ids, weights, owners FROM layout WHERE id = 1`,
      );
      // The layouts' version goes on from the old layout's, so no isolate mistakes it for one it holds.
      const epoch = sql.exec<{ epoch: number }>("SELECT epoch FROM layout WHERE id = 1").toArray()[0]?.epoch;
      if (epoch !== undefined) this.writeMeta("layout_epoch", String(epoch));
      sql.exec("DROP TABLE layout");
    }
  }

  /**
   * REGIONS and DEFAULT_REGION, like ORIGINS: they seed the object, and are applied again only when
   * they differ from what was last applied from them (a deploy that edits them); regions changed
   * through the admin API stand until then. Invalid settings change nothing (the object then has
   * no settings, and the worker answers 503 misconfigured). The layouts follow in the constructor.
   */
  private applyRegionBootstrap(): void {
    if (this.settings === null) return;
    const { regions, defaultRegion } = this.settings;
    const fingerprint = JSON.stringify({ regions, defaultRegion });
    if (this.readMeta("regions_bootstrap") === fingerprint) return;
    this.ctx.storage.transactionSync(() => {
      const stored = this.readRegions();
      if (JSON.stringify(stored.regions) !== JSON.stringify(regions) || stored.defaultRegion !== defaultRegion) {
        this.writeRegions(regions, defaultRegion);
        this.bumpEpoch();
        this.audit(Date.now(), this.readEpoch(), "bootstrap-regions", { regions: regions.map((r) => r.id) }, "REGIONS");
      }
      this.writeMeta("regions_bootstrap", fingerprint);
    });
  }

  /**
   * ORIGINS seeds an empty object. Afterwards the stored state is the truth, and ORIGINS is applied
   * again only when it differs from the list it was last applied from (a deploy that edits it):
   * then ids missing from ORIGINS are removed, new ids are added as active, and existing ids take
   * the new url / weight / region but keep their administrative state (and their health unless
   * the url changed). An invalid ORIGINS changes nothing; the errors are reported in every snapshot.
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
      if (this.replaceOrigins(parsed.value)) {
        this.syncLayout();
        this.bumpEpoch();
        this.audit(Date.now(), this.readEpoch(), "bootstrap", { origins: parsed.value.map((o) => o.id) }, "ORIGINS");
      }
      this.writeMeta("bootstrap", fingerprint);
    });
  }

  /** Makes the stored origin set equal `origins`, keeping states; true if anything changed. */
  private replaceOrigins(origins: readonly OriginConfig[]): boolean {
    const sql = this.ctx.storage.sql;
    const existing = new Map(this.readRows().map((row) => [row.id, row]));
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
          "INSERT INTO origins (id, url, weight, region, state, health) VALUES (?, ?, ?, ?, 'active', ?)",
          origin.id,
          origin.url,
          origin.weight,
          origin.region,
          JSON.stringify(INITIAL_HEALTH),
        );
        changed = true;
      } else if (row.url !== origin.url || row.weight !== origin.weight || row.region !== origin.region) {
        // A new address is a new server: what we knew about the old one's health does not carry over.
        const health = row.url === origin.url ? row.health : JSON.stringify(INITIAL_HEALTH);
        sql.exec(
          "UPDATE origins SET url = ?, weight = ?, region = ?, health = ? WHERE id = ?",
          origin.url,
          origin.weight,
          origin.region,
          health,
          origin.id,
        );
        changed = true;
      }
    }
    return changed;
  }

  private readRows(id?: string): OriginRow[] {
    const sql = this.ctx.storage.sql;
    return (
      id === undefined
        ? sql.exec<OriginRow>("SELECT * FROM origins ORDER BY id")
        : sql.exec<OriginRow>("SELECT * FROM origins WHERE id = ?", id)
    ).toArray();
  }

  /**
   * Brings the stored slot layouts (one per pool) in line with the stored origins, changing each
   * by the minimum (core/slot-ring.ts updateLayout); true if any changed. Call inside the
   * transaction that changed the origins, so a refused change leaves both as they were.
   */
  private syncLayout(): boolean {
    const origins = this.readRows().map((row) => ({ id: row.id, weight: row.weight, region: row.region }));
    const stored = this.readLayouts();
    const epoch = this.readLayoutEpoch() + 1;
    const { layouts, changed } = this.layoutsFor(origins, stored, epoch, this.regionIds());
    if (!changed) return false;
    const sql = this.ctx.storage.sql;
    for (const pool of Object.keys(stored)) {
      if (!(pool in layouts)) sql.exec("DELETE FROM pool_layouts WHERE pool = ?", pool);
    }
    for (const [pool, layout] of Object.entries(layouts)) {
      if (stored[pool] === layout) continue;
      sql.exec(
        `INSERT INTO pool_layouts (pool, epoch, slots_per_member, ids, weights, owners) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(pool) DO UPDATE SET epoch = excluded.epoch, slots_per_member = excluded.slots_per_member,
           ids = excluded.ids, weights = excluded.weights, owners = excluded.owners`,
        pool,
        layout.epoch,
        layout.slotsPerMember,
        JSON.stringify(layout.ids),
        JSON.stringify(layout.weights),
        new Uint16Array(layout.owners).buffer,
      );
    }
    this.writeMeta("layout_epoch", String(epoch));
    return true;
  }

  /**
   * The layouts `origins` need, by pool: a stored layout that still fits is kept as the same
   * object; others are changed by the minimum (or filled) and labelled `epoch`. Pure apart from
   * reading the settings. `regions`: the declared region ids (the pools besides the catch-all).
   */
  private layoutsFor(
    origins: readonly { readonly id: string; readonly weight: number; readonly region: string | null }[],
    stored: Readonly<Record<string, SlotLayout>>,
    epoch: number,
    regions: ReadonlySet<string>,
  ): { layouts: Record<string, SlotLayout>; changed: boolean } {
    const slotsPerMember = this.settings?.ringSlotsPerOrigin ?? SLOTS_PER_MEMBER;
    const members = new Map<string, { id: string; weight: number }[]>();
    for (const origin of origins) {
      const pool = poolOf(origin.region, regions);
      const list = members.get(pool) ?? [];
      list.push({ id: origin.id, weight: origin.weight });
      members.set(pool, list);
    }
    // A deployment without origins keeps one empty pool, so there is always a layout to ship.
    if (members.size === 0) members.set("", []);
    let changed = Object.keys(stored).some((pool) => !members.has(pool));
    const layouts: Record<string, SlotLayout> = {};
    for (const [pool, list] of members) {
      const held = stored[pool] ?? null;
      if (held !== null && held.slotsPerMember === slotsPerMember && layoutMatches(held, list)) {
        layouts[pool] = held;
        continue;
      }
      const { layout, refilled } = updateLayout(held, list, slotsPerMember, epoch);
      if (refilled && held !== null)
        console.warn(`pool "${pool}" slot layout refilled (layout epoch ${epoch}): most of its clients move once`);
      layouts[pool] = layout;
      changed = true;
    }
    return { layouts, changed };
  }

  private audit(at: number, epoch: number, action: string, detail: unknown, actor: string | null): void {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "INSERT INTO audit (at, epoch, action, detail, actor) VALUES (?, ?, ?, ?, ?)",
      at,
      epoch,
      action,
      JSON.stringify(detail),
      actor,
    );
    sql.exec("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?", AUDIT_KEEP);
  }

  private regionIds(): ReadonlySet<string> {
    return new Set(this.readRegions().regions.map((region) => region.id));
  }

  private readRegions(): { regions: Region[]; defaultRegion: string | null } {
    const rows = this.ctx.storage.sql
      .exec<{ id: string; latitude: number; longitude: number; countries: string; continents: string }>(
        "SELECT id, latitude, longitude, countries, continents FROM regions ORDER BY id",
      )
      .toArray();
    return {
      regions: rows.map((row) => ({
        id: row.id,
        latitude: row.latitude,
        longitude: row.longitude,
        countries: JSON.parse(row.countries) as string[],
        continents: JSON.parse(row.continents) as string[],
      })),
      defaultRegion: this.readMeta("default_region") ?? null,
    };
  }

  private writeRegions(regions: readonly Region[], defaultRegion: string | null): void {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM regions");
    for (const region of regions) {
      sql.exec(
        "INSERT INTO regions (id, latitude, longitude, countries, continents) VALUES (?, ?, ?, ?, ?)",
        region.id,
        region.latitude,
        region.longitude,
        JSON.stringify(region.countries),
        JSON.stringify(region.continents),
      );
    }
    if (defaultRegion === null) sql.exec("DELETE FROM meta WHERE key = 'default_region'");
    else this.writeMeta("default_region", defaultRegion);
  }

  private readLayoutEpoch(): number {
    return Number(this.readMeta("layout_epoch") ?? "0");
  }

  private readLayouts(): Record<string, SlotLayout> {
    const rows = this.ctx.storage.sql
      .exec<{
        pool: string;
        epoch: number;
        slots_per_member: number;
        ids: string;
        weights: string;
        owners: ArrayBuffer;
      }>("SELECT pool, epoch, slots_per_member, ids, weights, owners FROM pool_layouts ORDER BY pool")
      .toArray();
    const layouts: Record<string, SlotLayout> = {};
    for (const row of rows) {
      layouts[row.pool] = {
        epoch: row.epoch,
        slotsPerMember: row.slots_per_member,
        ids: JSON.parse(row.ids) as string[],
        weights: JSON.parse(row.weights) as number[],
        owners: new Uint16Array(row.owners.slice(0)),
      };
    }
    return layouts;
  }

  private readSnapshot(): StoreSnapshot {
    const origins: OriginRecord[] = this.readRows().map((row) => ({
      id: row.id,
      url: row.url,
      weight: row.weight,
      region: row.region,
      state: row.state as AdminState,
      drainStartedAt: row.drain_started_at,
      health: toView(readHealth(row)),
    }));
    return {
      epoch: this.readEpoch(),
      origins,
      layouts: this.readLayouts(),
      layoutEpoch: this.readLayoutEpoch(),
      ...this.readRegions(),
      bootstrapErrors: this.bootstrapErrors,
    };
  }

  private writeHealth(id: string, health: HealthRecord): void {
    this.ctx.storage.sql.exec("UPDATE origins SET health = ? WHERE id = ?", JSON.stringify(health), id);
  }

  private readEpoch(): number {
    return Number(this.readMeta("epoch") ?? "0");
  }

  /** Every routing-relevant write ends here, so the cached snapshot can never be stale. */
  private bumpEpoch(): void {
    this.writeMeta("epoch", String(this.readEpoch() + 1));
    this.cached = null;
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

function readHealth(row: OriginRow): HealthRecord {
  return row.health === null ? INITIAL_HEALTH : (JSON.parse(row.health) as HealthRecord);
}

function healthSettings(settings: Settings): HealthSettings {
  return {
    rise: settings.healthRise,
    fall: settings.healthFall,
    ejectAfter: settings.ejectAfter,
    ejectBaseMs: settings.ejectBaseMs,
    ejectMaxMs: settings.ejectMaxMs,
    ejectMaxPercent: settings.ejectMaxPercent,
    ejectWindowMs: settings.ejectWindowMs,
  };
}

function noMoves(): Preview {
  return { share: 0, ipv4Addresses: 0, ipv6Prefixes: 0, flows: [] };
}
