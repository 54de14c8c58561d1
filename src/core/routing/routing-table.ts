/**
 * A snapshot of the deployment (origins, their administrative state and health, the epoch), the
 * routing table built from it once per snapshot: a ring per pool, origins aligned to its members
 * (the weights at an instant: routing-view.ts; the walk of one request: pick-origins.ts).
 */
import {
  CATCH_ALL_POOL,
  poolOf,
  UNKNOWN_HEALTH,
  type OriginConfig,
  type OriginRecord,
  type Region,
  type Snapshot,
} from "../model.ts";
import type { Ring } from "../ring/ring.ts";
import { freshLayout, layoutMatches, ringFromLayout, type SlotLayout } from "../ring/slot-layout.ts";

/** One pool: its slot layout, its ring, and where its ring members are in `table.origins`. */
export interface PoolTable {
  readonly id: string;
  readonly layout: SlotLayout;
  readonly ring: Ring;
  /** members[m] = index into table.origins of ring member m. */
  readonly members: Uint32Array;
  /** True when the pool is the whole table (members[m] === m for every origin): no translation. */
  readonly identity: boolean;
}

/** A snapshot's rings, one per pool, with every origin once in `origins` (sorted by id). */
export interface RoutingTable {
  readonly epoch: number;
  readonly origins: readonly OriginRecord[];
  /** Regional pools sorted by id, then the catch-all pool (if it has origins). */
  readonly pools: readonly PoolTable[];
  readonly poolIndex: ReadonlyMap<string, number>;
  /** The first pool's layout and ring: the whole table when there is one pool. */
  readonly layout: SlotLayout;
  readonly ring: Ring;
  readonly layoutEpoch: number;
  /** The RING_SLOTS_PER_ORIGIN the rings were filled with (a changed setting refills them). */
  readonly slotsPerOrigin: number;
  /** The snapshot's regions (steering reads them) and their ids. */
  readonly regions: readonly Region[];
  readonly regionIds: ReadonlySet<string>;
  readonly defaultRegion: string | null;
}

const NO_REGIONS: ReadonlySet<string> = new Set();

/** The snapshot of a bootstrap list before the Durable Object has spoken: epoch 0, all active. */
export function bootstrapSnapshot(
  origins: readonly OriginConfig[],
  regions: readonly Region[] = [],
  defaultRegion: string | null = null,
): Snapshot {
  return {
    epoch: 0,
    origins: origins.map((origin) => ({
      ...origin,
      state: "active" as const,
      drainStartedAt: null,
      health: UNKNOWN_HEALTH,
    })),
    ...(regions.length > 0 ? { regions, defaultRegion } : {}),
  };
}

/**
 * Builds the routing table: one ring per pool (origins grouped by declared region; the rest in the
 * catch-all pool). Every origin keeps its slots whatever its state or health; the routing view
 * only weighs them, so taking an origin out moves exactly its own clients, each to its own ring
 * successor, and bringing it back returns exactly those (DESIGN.md: "skipped during the walk, not
 * removed from the ring positions"). A pool's ring comes from the snapshot's layout when it has one
 * that fits the pool's origins, else from a fresh fill (the bootstrap list).
 */
export function buildRoutingTable(
  snapshot: Snapshot,
  slotsPerOrigin: number,
  previous: RoutingTable | null = null,
): RoutingTable {
  const declared = snapshot.regions ?? [];
  const regions = declared.length === 0 ? NO_REGIONS : new Set(declared.map((region) => region.id));
  const origins = [...snapshot.origins].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const indexOf = new Map(origins.map((origin, i) => [origin.id, i]));
  const grouped = new Map<string, OriginRecord[]>();
  for (const origin of origins) {
    const pool = poolOf(origin.region, regions);
    const list = grouped.get(pool);
    if (list === undefined) grouped.set(pool, [origin]);
    else list.push(origin);
  }
  // Regional pools by id, the catch-all last; a deployment with no origins still has one (empty) pool.
  const ids = [...grouped.keys()].sort((a, b) =>
    a === CATCH_ALL_POOL ? 1 : b === CATCH_ALL_POOL ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  if (ids.length === 0) ids.push(CATCH_ALL_POOL);
  const pools = ids.map((id): PoolTable => {
    const members = grouped.get(id) ?? [];
    const before = previous?.pools[previous.poolIndex.get(id) ?? -1];
    const given = snapshot.layouts?.[id] ?? null;
    const layout =
      given !== null && layoutMatches(given, members)
        ? given
        : before !== undefined &&
            before.layout.epoch === 0 &&
            previous!.slotsPerOrigin === slotsPerOrigin &&
            layoutMatches(before.layout, members)
          ? before.layout
          : freshLayout(members, slotsPerOrigin);
    // Most epochs change only health or state: the layout, and so the ring, stays the same object
    // then and is reused instead of rebuilt.
    const ring = before !== undefined && before.layout === layout ? before.ring : ringFromLayout(layout);
    const index = Uint32Array.from(ring.ids, (member) => indexOf.get(member)!);
    // Identity only when the pool is the whole table: then its weights are the table's own array.
    const identity = index.length === origins.length && index.every((i, m) => i === m);
    return { id, layout, ring, members: index, identity };
  });
  const first = pools[0]!;
  return {
    epoch: snapshot.epoch,
    origins,
    pools,
    poolIndex: new Map(pools.map((pool, p) => [pool.id, p])),
    layout: first.layout,
    ring: first.ring,
    layoutEpoch: snapshot.layoutEpoch ?? 0,
    slotsPerOrigin: first.layout.slotsPerMember,
    regions: declared,
    regionIds: regions,
    defaultRegion: snapshot.defaultRegion ?? null,
  };
}

// Walk results of one pool before translation to table indices, one buffer per length.
