/**
 * The Durable Object that holds the truth for a deployment: the origins, their administrative
 * state, their health and the epoch, in SQLite. Isolates read snapshots from it in the background
 * and send it batched traffic reports; no client request waits on it in steady state. It probes
 * every origin on the cron trigger and on its own alarm (finer than cron's one minute). The class
 * holds the in-memory state and the transaction boundaries; each method delegates to the module
 * that does its job.
 */
import { DurableObject } from "cloudflare:workers";
import type { AdminChange } from "../core/admin/admin.ts";
import { parseAlertSettings } from "../core/config/alert-settings.ts";
import { parseSettings, type Settings } from "../core/config/settings.ts";
import type { RoundScope } from "../core/health/probe-schedule.ts";
import type { LogEvent } from "../core/log/log-event.ts";
import type { AdminState } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import { emitLog } from "../worker/emit-log.ts";
import type { Vars } from "../worker/vars.ts";
import { applyAdminChange } from "./admin-changes.ts";
import { AlertDelivery } from "./alert-delivery.ts";
import { readAudit } from "./audit-log.ts";
import { applyOriginBootstrap, applyRegionBootstrap } from "./bootstrap.ts";
import { CallCounter } from "./call-counter.ts";
import { announceHealth } from "./health-announcer.ts";
import { slotsPerOrigin, syncLayout } from "./layout-rows.ts";
import { incrementEpoch, readEpoch } from "./meta.ts";
import { readOriginRows } from "./origin-rows.ts";
import { applyPlacementChange } from "./placement-changes.ts";
import { PlacementPlanner } from "./placement-planner.ts";
import { writePlacements } from "./placement-rows.ts";
import { armAlarm, runAlarm } from "./probe-alarm.ts";
import { ProbeRounds } from "./probe-rounds.ts";
import type {
  AuditEntry,
  CallCounts,
  ChangeOptions,
  ChangeResult,
  OriginList,
  PlacementChange,
  PlacementChangeResult,
  ReportAnswer,
  ReportEntry,
  RoundResult,
  SnapshotUpdate,
  StateChange,
  StoreHealth,
  StoreSnapshot,
  TrafficStatus,
} from "./protocol.ts";
import { migrate } from "./schema.ts";
import { isSessionRevoked, revokeSession } from "./session-rows.ts";
import { buildUpdate, listAdminOrigins, readSnapshot, readStoreHealth } from "./snapshot.ts";
import type { StoreHost } from "./store-host.ts";
import { applyTrafficReport } from "./traffic-reports.ts";

const STATES: readonly AdminState[] = ["active", "draining", "disabled"];

/** Holds origins, health and the epoch; seeds itself from ORIGINS and re-applies ORIGINS when it changes. */
export class RingStore extends DurableObject<Vars> {
  private cached: StoreSnapshot | null = null;
  private bootstrapErrors: FieldError[] = [];
  private readonly settings: Settings | null;
  private readonly host: StoreHost;
  private readonly rounds: ProbeRounds;
  /** The edge-wide traffic window (in memory) and the placement plans made from it. */
  private readonly planner: PlacementPlanner;
  /** Calls served since this object started, by method: what `npm run bench` counts per 10,000 requests. */
  private readonly calls = new CallCounter();
  /** The alert webhook's outbox delivery (public so tests can point it at their receiver). */
  readonly alerts: AlertDelivery;
  /** Injectable for tests. */
  now: () => number = Date.now;

  constructor(ctx: DurableObjectState, env: Vars) {
    super(ctx, env);
    const vars = env as unknown as Record<string, unknown>;
    const parsed = parseSettings(vars);
    this.settings = parsed.ok ? parsed.value : null;
    if (!parsed.ok) this.log({ event: "misconfigured", level: "error", scope: "settings", errors: parsed.errors });
    // An invalid webhook turns alerts off, nothing else: routing and probing never depend on it.
    const alertSettings = parseAlertSettings(vars);
    if (!alertSettings.ok)
      this.log({ event: "misconfigured", level: "error", scope: "alerts", errors: alertSettings.errors });
    this.host = {
      storage: ctx.storage,
      settings: this.settings,
      bumpEpoch: () => this.bumpEpoch(),
      log: (event, at) => this.log(event, at),
      alertsEnabled: () => this.alerts.enabled(),
    };
    this.alerts = new AlertDelivery(this.host, alertSettings.ok ? alertSettings.value : null);
    this.rounds = new ProbeRounds(this.host);
    const { slowStartMs = 0, drainMs = 0, panicPercent = 0 } = this.settings ?? {};
    this.planner = new PlacementPlanner(this.settings?.placement ?? null, slotsPerOrigin(this.settings), {
      slowStartMs,
      drainMs,
      panicPercent,
    });
    // SQLite storage is synchronous, so this finishes before any call is delivered. A new
    // deployment (new variables) restarts the object, so this is where a changed ORIGINS is noticed.
    migrate(ctx.storage.sql);
    applyRegionBootstrap(this.host);
    this.bootstrapErrors = applyOriginBootstrap(this.host, env.ORIGINS);
    // A changed RING_SLOTS_PER_ORIGIN (or a schema upgrade) takes effect here.
    ctx.storage.transactionSync(() => {
      if (syncLayout(ctx.storage.sql, slotsPerOrigin(this.settings))) this.bumpEpoch();
      // Where health announcements start from (origins seeded or added by ORIGINS just now), and
      // what changed while the object was away (an ejection that ran out).
      announceHealth(this.host, this.now());
    });
    void ctx.blockConcurrencyWhile(() => armAlarm(ctx.storage, this.settings));
    // Alerts a restart interrupted go out now.
    this.deliverAlerts();
  }

  /** The current snapshot: epoch and origins sorted by id. */
  async getSnapshot(): Promise<StoreSnapshot> {
    this.cached ??= readSnapshot(this.ctx.storage.sql, this.bootstrapErrors);
    return this.cached;
  }

  /**
   * The snapshot, without the origin list when `knownEpoch` is already current. `traffic`: the
   * caller's counts since its last report (core/traffic/traffic-report.ts, validated here), merged
   * into the edge-wide window; at most once per PLACEMENT_INTERVAL_MS the placements are planned
   * again, and a change bumps the epoch, so this very answer already carries it.
   */
  async getUpdate(
    knownEpoch: number | null,
    knownLayoutEpoch: number | null = null,
    traffic: unknown = null,
  ): Promise<SnapshotUpdate> {
    this.calls.count("getUpdate");
    const now = this.now();
    if (this.planner.merge(traffic, now) && this.planner.due(now)) this.plan(await this.getSnapshot(), now);
    return buildUpdate(await this.getSnapshot(), knownEpoch, knownLayoutEpoch);
  }

  /** The edge-wide traffic view and the placements with the last plan's loads (null: placement misconfigured). */
  async getTraffic(): Promise<TrafficStatus | null> {
    return this.planner.status(this.now(), (await this.getSnapshot()).placements);
  }

  /** Pins or releases one placement by hand (or previews it), audited (placement-changes.ts). */
  async changePlacement(change: PlacementChange, options: ChangeOptions = {}): Promise<PlacementChangeResult> {
    const now = this.now();
    return this.ctx.storage.transactionSync(() => applyPlacementChange(this.host, change, options, now));
  }

  /** Every origin with its state, health and exact share of the key space, at one epoch. */
  async listOrigins(): Promise<OriginList> {
    const snapshot = await this.getSnapshot();
    return listAdminOrigins(snapshot, readOriginRows(this.ctx.storage.sql));
  }

  /**
   * Applies one admin change atomically (or only previews it): validated against the stored state
   * inside one transaction, so a refused change writes nothing. The shape of `change` is checked by
   * core/admin/admin.ts before it gets here.
   */
  async applyChange(change: AdminChange, options: ChangeOptions = {}): Promise<ChangeResult> {
    const now = this.now();
    const result = this.ctx.storage.transactionSync(() => {
      const applied = applyAdminChange(this.host, change, options, now);
      // A disabled or re-enabled origin can start or end panic mode.
      if (applied.ok && applied.changed) announceHealth(this.host, now);
      return applied;
    });
    this.deliverAlerts();
    return result;
  }

  /** The newest audit entries first; `before` pages back by sequence number. */
  async getAudit(limit = 100, before: number | null = null): Promise<AuditEntry[]> {
    return readAudit(this.ctx.storage.sql, limit, before);
  }

  /** How many calls of each kind this instance has served since it started (in memory only). */
  async callCounts(): Promise<CallCounts> {
    return this.calls.read();
  }

  /** Ends a status-page session before its cookie expires (session-rows.ts); `sid` is 32 hex digits. */
  async revokeSession(sid: string, expiresAt: number): Promise<boolean> {
    if (!/^[0-9a-f]{32}$/.test(sid) || !Number.isSafeInteger(expiresAt)) return false;
    revokeSession(this.ctx.storage.sql, sid, Math.min(expiresAt, this.now() + 86_400_000), this.now());
    return true;
  }

  /** True when the session was logged out. */
  async sessionRevoked(sid: string): Promise<boolean> {
    return typeof sid === "string" && isSessionRevoked(this.ctx.storage.sql, sid);
  }

  /** Every origin's full health record, for the status route. */
  async getHealth(): Promise<StoreHealth> {
    return readStoreHealth(this.ctx.storage.sql);
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

  /** One probe round (probe-rounds.ts): every origin ("all") or those not settled up ("unsettled"). */
  async probeRound(scope: RoundScope = "all"): Promise<RoundResult> {
    this.calls.count("probeRound");
    const result = await this.rounds.run(scope, this.now);
    // Also what retries alerts left behind by a restart.
    this.deliverAlerts();
    return result;
  }

  /** The alarm (probe-alarm.ts): re-armed, then one probe round; never throws. */
  override async alarm(): Promise<void> {
    await runAlarm(
      this.host,
      () => this.now(),
      (scope) => this.probeRound(scope),
    );
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
    this.calls.count("report");
    if (Array.isArray(entries) && applyTrafficReport(this.host, entries, this.now()) > 0) this.deliverAlerts();
    const epoch = readEpoch(this.ctx.storage.sql);
    const stale = typeof knownEpoch === "number" && knownEpoch !== epoch;
    return { epoch, update: stale ? buildUpdate(await this.getSnapshot(), knownEpoch, knownLayoutEpoch) : null };
  }

  /** Stores a plan that changed something, with the epoch bump that ships it (placement-planner.ts). */
  private plan(snapshot: StoreSnapshot, now: number): void {
    const outcome = this.planner.plan(snapshot, now);
    if (outcome === null || outcome.changed.length === 0) return;
    this.ctx.storage.transactionSync(() => {
      writePlacements(this.ctx.storage.sql, outcome.placements);
      this.bumpEpoch();
    });
    this.log(
      {
        event: "placement.changed",
        level: "info",
        action: "plan",
        keys: outcome.changed,
        placements: outcome.placements.length,
        movedShare: Math.round(outcome.movedShare * 1e4) / 1e4,
      },
      now,
    );
  }

  /** Sends the alert outbox in the background (alert-delivery.ts: one loop at a time; a no-op when empty). */
  private deliverAlerts(): void {
    this.ctx.waitUntil(this.alerts.deliver());
  }

  /** One structured log line; the object's secrets never appear in it. */
  private log(event: LogEvent, at: number = Date.now()): void {
    emitLog(event, this.env, at);
  }

  /** Every routing-relevant write ends here, so the cached snapshot can never be stale. */
  private bumpEpoch(): void {
    incrementEpoch(this.ctx.storage.sql);
    this.cached = null;
  }
}
