/**
 * The object's side of load-aware placement: the edge-wide traffic window (in memory: rebuilt
 * empty on a restart, refilled within one window by the next reports), and the plan made from it
 * at most once per PLACEMENT_INTERVAL_MS, one pool at a time. Reports arrive with the isolates'
 * refreshes (getUpdate), so planning costs nothing per client request either: its load is the
 * refreshes', bounded by isolates / TTL (README "Design", scale table).
 */
import type { PlacementSettings } from "../core/placement/placement-settings.ts";
import { byHashThenKey, type Placement, type PlanLoads } from "../core/placement/placement.ts";
import { planPlacements } from "../core/placement/plan-placements.ts";
import { fullWalk } from "../core/placement/pool-load.ts";
import { viewRates } from "../core/placement/view-input.ts";
import { buildRoutingTable, type RoutingTable } from "../core/routing/routing-table.ts";
import { routingView, type RoutingPolicy } from "../core/routing/routing-view.ts";
import { validateTrafficReport } from "../core/traffic/traffic-report.ts";
import {
  createTrafficWindow,
  mergeTrafficReport,
  trafficView,
  type TrafficWindow,
} from "../core/traffic/traffic-window.ts";
import type { StoreSnapshot, TrafficStatus } from "./protocol.ts";

type PoolPlan = PlanLoads & { readonly withinBound: boolean; readonly movedShare: number };

/** A new plan: every pool's placements together, and the keys whose placement changed. */
export interface PlanOutcome {
  readonly placements: Placement[];
  readonly changed: string[];
  readonly movedShare: number;
}

/** The traffic window and the plans of one Durable Object instance. */
export class PlacementPlanner {
  private readonly window: TrafficWindow | null;
  private table: RoutingTable | null = null;
  /** When the last plan ran (ms since the Unix epoch), null before the first. */
  plannedAt: number | null = null;
  private pools: Record<string, PoolPlan> = {};
  /** Reports refused by validation since the object started (a version skew or a bug shows here). */
  refused = 0;
  /** Where the traffic of the first report since the object started began (NaN: none yet). */
  private firstFrom = Number.NaN;

  constructor(
    private readonly settings: PlacementSettings | null,
    private readonly slotsPerOrigin: number,
    private readonly policy: RoutingPolicy,
  ) {
    this.window =
      settings === null
        ? null
        : createTrafficWindow({ windowMs: settings.trafficWindowMs, keysMax: settings.hotKeysMax });
  }

  /** Adds one untrusted report received at `now`; false when it was refused (nothing counted). */
  merge(raw: unknown, now: number): boolean {
    if (this.window === null || raw === null || raw === undefined) return false;
    const report = validateTrafficReport(raw);
    if (!report.ok) {
      this.refused++;
      return false;
    }
    mergeTrafficReport(this.window, report.value, now);
    if (this.firstFrom !== this.firstFrom) this.firstFrom = now - report.value.spanMs;
    return true;
  }

  /**
   * True when a plan is due: PLACEMENT_INTERVAL_MS since the last one, and a view that covers at
   * least a third of a window (20 s by default: two reports of every isolate). A placement is held
   * once made, so the first one must not come from the first seconds after a (re)start.
   */
  due(now: number): boolean {
    if (this.window === null || this.settings === null || !(now - this.firstFrom >= this.window.windowMs / 3)) {
      return false;
    }
    return this.plannedAt === null || now - this.plannedAt >= this.settings.placementIntervalMs;
  }

  /** Plans every pool of `snapshot` from the view at `now`; null when placement is not configured. */
  plan(snapshot: StoreSnapshot, now: number): PlanOutcome | null {
    if (this.window === null || this.settings === null) return null;
    this.plannedAt = now;
    const table = this.tableOf(snapshot);
    const view = trafficView(this.window, now);
    const rates = viewRates(view);
    const weights = routingView(table, this.policy, now).poolWeights;
    const placements: Placement[] = [];
    const changed = new Set<string>();
    const pools: Record<string, PoolPlan> = {};
    let moved = 0;
    let total = 0;
    table.pools.forEach((pool, p) => {
      const ids = new Set(pool.ring.ids);
      const origins = pool.ring.ids.map((id, m) => ({
        id,
        weight: table.origins[pool.members[m]!]!.weight,
        eligible: weights[p]![m]! > 0,
      }));
      const held = snapshot.placements.filter((placement) => ids.has(placement.targets[0]?.origin ?? ""));
      // With regional pools a key's requests reach one pool only (the client's nearest), which the
      // report does not say: a key is this pool's when its ring primary here saw at least its rate.
      const keys =
        table.pools.length === 1
          ? rates.keys
          : rates.keys.filter((k) => {
              const primary = fullWalk(pool.ring, k.hash).find((m) => weights[p]![m]! > 0);
              return primary !== undefined && (rates.originRates[pool.ring.ids[primary]!] ?? 0) >= 0.9 * k.rate;
            });
      const plan = planPlacements({
        now,
        ring: pool.ring,
        origins,
        ...rates,
        keys,
        held,
        settings: { boundFactor: this.settings!.loadBoundFactor, holdMs: this.settings!.trafficWindowMs },
      });
      placements.push(...plan.placements);
      for (const key of plan.changed) changed.add(key);
      pools[pool.id] = { ...plan.loads, withinBound: plan.withinBound, movedShare: plan.movedShare };
      moved += plan.movedRate;
      total += Object.values(plan.loads.before).reduce((sum, rate) => sum + rate, 0);
    });
    // A placement none of whose targets is in any pool any more is dropped.
    const kept = new Set(placements.map((placement) => placement.key));
    for (const placement of snapshot.placements) if (!kept.has(placement.key)) changed.add(placement.key);
    this.pools = pools;
    return {
      placements: placements.sort(byHashThenKey),
      changed: [...changed].sort(),
      movedShare: total > 0 ? moved / total : 0,
    };
  }

  /** The view and the last plan's loads, for the status views. */
  status(now: number, placements: readonly Placement[]): TrafficStatus | null {
    if (this.window === null || this.settings === null) return null;
    return {
      view: trafficView(this.window, now),
      placements,
      plannedAt: this.plannedAt,
      pools: this.pools,
      boundFactor: this.settings.loadBoundFactor,
    };
  }

  /** The routing table of the snapshot, rebuilt only when its epoch changed. */
  private tableOf(snapshot: StoreSnapshot): RoutingTable {
    if (this.table === null || this.table.epoch !== snapshot.epoch) {
      this.table = buildRoutingTable(snapshot, this.slotsPerOrigin, this.table);
    }
    return this.table;
  }
}
