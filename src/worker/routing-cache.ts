/**
 * The isolate's routing table, kept in module scope. A request never waits for the Durable Object
 * once the isolate has a table: a table older than SNAPSHOT_TTL_MS is refreshed in the background
 * (`ctx.waitUntil`), one refresh at a time per isolate, so the object's load is
 * isolates / TTL whatever the traffic. A cold isolate waits once, at most DO_TIMEOUT_MS, then
 * routes with the bootstrap list; when the object fails, the last table keeps routing. With the
 * location cache (location-cache.ts), a refresh asks the location first and the object only when
 * the location does not know better than the isolate.
 */
import type { Settings } from "../core/config/settings.ts";
import type { Env } from "./env.ts";
import { emitLog } from "./emit-log.ts";
import { locationEpoch, readLocation, writeLocation, type LocationCache } from "./location-cache.ts";
import type { ReportAnswer, ReportEntry, SnapshotUpdate } from "../ring-store/protocol.ts";
import { ringStub, withTimeout } from "./do-call.ts";
import { bootstrapTable, placementsFromUpdate, tableFromUpdate, type CachedTable } from "./cached-table.ts";
import { edgeReportDue, takeEdgeReport } from "./edge-traffic.ts";
import type { TrafficReport } from "../core/traffic/traffic-report.ts";

interface IsolateState {
  current: CachedTable | null;
  /** When the object was last asked (success or not): the TTL runs from here. */
  checkedAt: number;
  inflight: Promise<void> | null;
  lastError: string | null;
  refreshes: number;
  /** Refreshes the location cache answered (no Durable Object call). */
  locationHits: number;
}

const state: IsolateState = {
  current: null,
  checkedAt: 0,
  inflight: null,
  lastError: null,
  refreshes: 0,
  locationHits: 0,
};

/**
 * Asks the Durable Object for what changed since `knownEpoch` / `knownLayoutEpoch`, handing it the
 * isolate's traffic counts since the last report (edge-traffic.ts); injectable for tests.
 */
export type SnapshotReader = (
  env: Env,
  knownEpoch: number | null,
  knownLayoutEpoch: number | null,
  traffic: TrafficReport | null,
) => Promise<SnapshotUpdate>;

const readFromObject: SnapshotReader = (env, knownEpoch, knownLayoutEpoch, traffic) =>
  ringStub(env).getUpdate(knownEpoch, knownLayoutEpoch, traffic);

/**
 * The table to route with, or null when there is none (no snapshot and no usable bootstrap list).
 * Waits for the Durable Object only when the isolate has no table yet.
 */
export async function currentTable(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  location: () => LocationCache | null = NO_LOCATION,
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
): Promise<CachedTable | null> {
  const held = heldTable(env, settings, ctx, location, now, read);
  if (held !== null) return held;
  // `location` is asked only when a refresh starts: it reads the request's URL.
  await refresh({ env, settings, ctx, now, read, location: location(), fresh: false });
  if (state.current === null) state.current = bootstrapTable(env, settings, now());
  return state.current;
}

/**
 * `currentTable` without a promise when the isolate holds a table (every request but a cold
 * isolate's first): the table, with the background refresh started when it is stale; null when
 * there is none yet and the caller must await `currentTable`.
 */
export function heldTable(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  location: () => LocationCache | null = NO_LOCATION,
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
  // The caller's reading of the clock, when it has one (each reading is a call into the runtime).
  at: number = now(),
): CachedTable | null {
  const held = state.current;
  if (held !== null && at - state.checkedAt >= settings.snapshotTtlMs && state.inflight === null) {
    ctx.waitUntil(refresh({ env, settings, ctx, now, read, location: location(), fresh: false }));
  }
  return held;
}

const NO_LOCATION = () => null;

/**
 * Refreshes now, TTL or not, unless a refresh is already in flight: for when this isolate learnt
 * that the epoch moved (a report it sent ejected an origin). The DO load stays bounded because
 * reports are.
 */
export function refreshSoon(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  epoch: number,
  location: LocationCache | null = null,
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
): void {
  if (state.inflight !== null || state.current?.table.epoch === epoch) return;
  // Straight to the object (the location cannot know yet), then shared with the location.
  ctx.waitUntil(refresh({ env, settings, ctx, now, read, location, fresh: true }));
}

/** The epoch and layout epoch of the table this isolate holds from the object (null, null: none). */
export function knownEpochs(): readonly [number | null, number | null] {
  const held = state.current?.source === "durable-object" ? state.current.table : null;
  return [held?.epoch ?? null, held?.layoutEpoch ?? null];
}

/**
 * A report's answer: the update it carried (the reporter's epoch was stale, typically because the
 * report ejected an origin) is adopted at once and shared with the location; an answer without
 * one that still names another epoch starts a refresh.
 */
export function adoptReportAnswer(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  answer: ReportAnswer,
  location: LocationCache | null,
  now: () => number = Date.now,
): void {
  const { update } = answer;
  if (update !== null && state.inflight === null && (state.current?.table.epoch ?? -1) < update.epoch) {
    try {
      adopt(update, settings, now());
      state.checkedAt = now();
      shareWithLocation(ctx, location, update);
      return;
    } catch (error) {
      // It was relative to a table this isolate no longer holds: ask again.
      emitLog({ event: "report.answer_rejected", level: "error", error }, env);
    }
  }
  refreshSoon(env, settings, ctx, answer.epoch, location, now);
}

/**
 * Before a failure report: when the location already knows a newer epoch than this isolate, this
 * isolate catches up from it first, and the entries about origins the newer table no longer
 * routes to are dropped (another isolate's report already made that news). This keeps an origin's
 * death to about one report per location instead of one per isolate. Returns what is still news.
 */
export async function reportsStillNews(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  location: LocationCache | null,
  entries: readonly ReportEntry[],
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
): Promise<ReportEntry[]> {
  if (location === null || state.current === null) return [...entries];
  const newest = await locationEpoch(location).catch(() => null);
  if (newest === null || newest <= state.current.table.epoch) return [...entries];
  await refresh({ env, settings, ctx, now, read, location, fresh: false });
  const at = now();
  const byId = new Map(state.current.table.origins.map((origin) => [origin.id, origin]));
  return entries.filter((entry) => {
    const origin = byId.get(entry.id);
    if (origin === undefined || origin.state !== "active" || origin.health.status === "down") return false;
    return origin.health.ejectedUntil === null || origin.health.ejectedUntil <= at;
  });
}

/** What the status route shows about this isolate's cache. */
export function cacheStatus(): {
  readonly lastError: string | null;
  readonly refreshes: number;
  readonly locationHits: number;
  readonly checkedAt: number;
} {
  return {
    lastError: state.lastError,
    refreshes: state.refreshes,
    locationHits: state.locationHits,
    checkedAt: state.checkedAt,
  };
}

/** Forgets the cached table (tests only: module scope outlives a test). */
export function resetRoutingCache(): void {
  Object.assign(state, {
    current: null,
    checkedAt: 0,
    inflight: null,
    lastError: null,
    refreshes: 0,
    locationHits: 0,
  });
}

interface RefreshContext {
  readonly env: Env;
  readonly settings: Settings;
  readonly ctx: ExecutionContext;
  readonly now: () => number;
  readonly read: SnapshotReader;
  readonly location: LocationCache | null;
  /** Skip the location cache: this isolate knows the object moved past it. */
  readonly fresh: boolean;
}

function refresh({ env, settings, ctx, now, read, location, fresh }: RefreshContext): Promise<void> {
  state.inflight ??= (async () => {
    state.checkedAt = now();
    state.refreshes++;
    try {
      const fromObject = state.current?.source === "durable-object" ? state.current.table : null;
      const known = [fromObject?.epoch ?? null, fromObject?.layoutEpoch ?? null] as const;
      // Counts waiting too long go to the object even when the location could answer (edge-traffic.ts).
      const carry = edgeReportDue(settings, now());
      const shared =
        location === null || fresh || carry
          ? null
          : await readLocation(location, ...known).catch((error: unknown) => {
              emitLog({ event: "location_cache.failed", level: "error", operation: "read", error }, env);
              return null;
            });
      // Any call that reaches the object carries the counts: they ride on it for free.
      const update = shared ?? (await withTimeout(read(env, ...known, takeEdgeReport(now())), settings.doTimeoutMs));
      adopt(update, settings, now());
      state.lastError = null;
      if (shared !== null) state.locationHits++;
      else shareWithLocation(ctx, location, update);
    } catch (error) {
      // Keep routing with what we have; the next try is one TTL later.
      state.lastError = error instanceof Error ? error.message : String(error);
      emitLog({ event: "snapshot.refresh_failed", level: "error", error: state.lastError }, env);
    } finally {
      state.inflight = null;
    }
  })();
  return state.inflight;
}

function adopt(update: SnapshotUpdate, settings: Settings, receivedAt: number): void {
  const table = tableFromUpdate(update, settings, state.current);
  state.current = {
    table,
    source: "durable-object",
    receivedAt,
    bootstrapErrors: update.bootstrapErrors,
    placements: placementsFromUpdate(update, state.current),
  };
}

/** What the object answered, for the location's other isolates (in the background; a failure is only logged). */
function shareWithLocation(ctx: ExecutionContext, location: LocationCache | null, update: SnapshotUpdate): void {
  if (location === null) return;
  ctx.waitUntil(
    writeLocation(location, update).catch((error: unknown) =>
      emitLog({ event: "location_cache.failed", level: "error", operation: "write", error }),
    ),
  );
}
