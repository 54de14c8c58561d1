/**
 * The isolate's routing table, kept in module scope. A request never waits for the Durable Object
 * once the isolate has a table: a table older than SNAPSHOT_TTL_MS is refreshed in the background
 * (`ctx.waitUntil`), one refresh at a time per isolate, so the object's load is
 * isolates / TTL whatever the traffic. A cold isolate waits once, at most DO_TIMEOUT_MS, then
 * routes with the bootstrap list; when the object fails, the last table keeps routing.
 */
import { parseOrigins, type FieldError, type Settings } from "../core/config.ts";
import {
  bootstrapSnapshot,
  buildRoutingTable,
  routingView,
  type RoutingTable,
  type RoutingView,
  type Snapshot,
} from "../core/routing-table.ts";
import type { Env } from "./env.ts";
import { RING_OBJECT_NAME, type SnapshotUpdate } from "./ring-store.ts";

/** Where the table in use came from. */
export type TableSource = "durable-object" | "bootstrap";

/** The table in use and what the status route reports about it. */
export interface CachedTable {
  readonly table: RoutingTable;
  readonly source: TableSource;
  /** When the snapshot behind the table was received (ms since the epoch). */
  readonly receivedAt: number;
  /** ORIGINS errors reported by the Durable Object or found in the bootstrap list. */
  readonly bootstrapErrors: readonly FieldError[];
}

interface IsolateState {
  current: CachedTable | null;
  /** When the object was last asked (success or not): the TTL runs from here. */
  checkedAt: number;
  inflight: Promise<void> | null;
  lastError: string | null;
  refreshes: number;
}

const state: IsolateState = {
  current: null,
  checkedAt: 0,
  inflight: null,
  lastError: null,
  refreshes: 0,
};

/** Asks the Durable Object for what changed since `knownEpoch` / `knownLayoutEpoch`; injectable for tests. */
export type SnapshotReader = (
  env: Env,
  knownEpoch: number | null,
  knownLayoutEpoch: number | null,
) => Promise<SnapshotUpdate>;

const readFromObject: SnapshotReader = (env, knownEpoch, knownLayoutEpoch) =>
  env.RING.get(env.RING.idFromName(RING_OBJECT_NAME)).getUpdate(knownEpoch, knownLayoutEpoch);

/**
 * The table to route with, or null when there is none (no snapshot and no usable bootstrap list).
 * Waits for the Durable Object only when the isolate has no table yet.
 */
export async function currentTable(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
): Promise<CachedTable | null> {
  if (state.current === null) {
    await refresh(env, settings, now, read);
    if (state.current === null) state.current = fromBootstrap(env, settings, now());
    return state.current;
  }
  if (now() - state.checkedAt >= settings.snapshotTtlMs && state.inflight === null) {
    ctx.waitUntil(refresh(env, settings, now, read));
  }
  return state.current;
}

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
  now: () => number = Date.now,
  read: SnapshotReader = readFromObject,
): void {
  if (state.inflight !== null || state.current?.table.epoch === epoch) return;
  ctx.waitUntil(refresh(env, settings, now, read));
}

// The view (per-origin weights with health, ramps and panic applied) changes only at known
// instants; it is recomputed when the table changes or its validUntil has passed.
let viewOf: { table: RoutingTable; settings: Settings; view: RoutingView } | null = null;

/** The routing view of `table` at `now`, cached until it expires. */
export function viewAt(table: RoutingTable, settings: Settings, now: number): RoutingView {
  if (viewOf === null || viewOf.table !== table || viewOf.settings !== settings || now >= viewOf.view.validUntil) {
    const policy = {
      slowStartMs: settings.slowStartMs,
      drainMs: settings.drainMs,
      panicPercent: settings.panicPercent,
    };
    viewOf = { table, settings, view: routingView(table, policy, now) };
  }
  return viewOf.view;
}

/** What the status route shows about this isolate's cache. */
export function cacheStatus(): {
  readonly lastError: string | null;
  readonly refreshes: number;
  readonly checkedAt: number;
} {
  return {
    lastError: state.lastError,
    refreshes: state.refreshes,
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
  });
}

function refresh(env: Env, settings: Settings, now: () => number, read: SnapshotReader): Promise<void> {
  state.inflight ??= (async () => {
    state.checkedAt = now();
    state.refreshes++;
    try {
      const fromObject = state.current?.source === "durable-object" ? state.current.table : null;
      const update = await withTimeout(
        read(env, fromObject?.epoch ?? null, fromObject?.layoutEpoch ?? null),
        settings.doTimeoutMs,
      );
      adopt(update, settings, now());
      state.lastError = null;
    } catch (error) {
      // Keep routing with what we have; the next try is one TTL later.
      state.lastError = error instanceof Error ? error.message : String(error);
      console.error(`snapshot refresh failed: ${state.lastError}`);
    } finally {
      state.inflight = null;
    }
  })();
  return state.inflight;
}

function adopt(update: SnapshotUpdate, settings: Settings, receivedAt: number): void {
  const previous = state.current;
  let table: RoutingTable;
  const held = previous?.source === "durable-object" ? previous.table : null;
  if (update.origins !== null) {
    // The layouts come only when they changed: most epochs change health or state, and then the
    // layouts held (and the rings built from them) are reused.
    const layouts =
      update.layouts ??
      (held !== null && held.layoutEpoch === update.layoutEpoch
        ? Object.fromEntries(held.pools.map((pool) => [pool.id, pool.layout]))
        : null);
    if (layouts === null)
      throw new Error(`Durable Object sent no layouts ${update.layoutEpoch}, which this isolate lacks`);
    table = buildRoutingTable(
      {
        epoch: update.epoch,
        origins: update.origins,
        layouts,
        layoutEpoch: update.layoutEpoch,
        regions: update.regions ?? [],
        defaultRegion: update.defaultRegion,
      },
      settings.ringSlotsPerOrigin,
      previous?.table ?? null,
    );
    const misfit = table.pools.filter((pool) => pool.layout !== layouts[pool.id]).map((pool) => pool.id);
    if (misfit.length > 0)
      console.error(
        `layouts ${update.layoutEpoch} do not fit epoch ${update.epoch} (pools ${misfit.join(", ")}): refilled`,
      );
  } else if (previous?.source === "durable-object" && previous.table.epoch === update.epoch) {
    // Unchanged epoch: the ring is not rebuilt, only the age renewed.
    table = previous.table;
  } else {
    throw new Error(`Durable Object sent no origins for epoch ${update.epoch}, which this isolate lacks`);
  }
  state.current = { table, source: "durable-object", receivedAt, bootstrapErrors: update.bootstrapErrors };
}

function fromBootstrap(env: Env, settings: Settings, now: number): CachedTable | null {
  const parsed = parseOrigins(env.ORIGINS);
  if (!parsed.ok) {
    console.error(`ORIGINS unusable: ${parsed.errors.map((e) => `${e.field} ${e.message}`).join("; ")}`);
    return null;
  }
  const snapshot: Snapshot = bootstrapSnapshot(parsed.value, settings.regions, settings.defaultRegion);
  return {
    table: buildRoutingTable(snapshot, settings.ringSlotsPerOrigin),
    source: "bootstrap",
    receivedAt: now,
    bootstrapErrors: [],
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Durable Object did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
