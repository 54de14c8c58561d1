/**
 * The balancer's metrics (README "Metrics" lists them): what `GET {prefix}/metrics` exposes, as families for
 * metrics-format.ts. Pure: the route gathers plain figures (input below), this names them, converts them to base
 * units (seconds, ratios 0–1, Unix seconds) and writes one series per origin, pool, state or call.
 *
 * A figure nobody has yet (an origin never probed, a Durable Object that did not answer) has no series at all rather
 * than a made-up 0 or NaN: Prometheus' convention, so that `absent()` and staleness work and a graph shows a gap.
 */
import type { AdminState, ProbeStatus } from "../model.ts";
import type { MetricFamily, MetricType, Sample } from "./metrics-format.ts";

/** One origin's figures. */
export interface OriginFigures {
  readonly id: string;
  /** Its pool's id: its region, or "" for the catch-all pool. */
  readonly pool: string;
  readonly weight: number;
  readonly state: AdminState;
  readonly health: ProbeStatus;
  readonly ejected: boolean;
  /** Ejections in the current streak; null without the Durable Object's record. */
  readonly ejections: number | null;
  /** Consecutive failed client requests, merged over the edge; null without the record. */
  readonly passiveFailures: number | null;
  /** Of the last probe (ms), and when it ran (ms since the Unix epoch); null before the first. */
  readonly latencyMs: number | null;
  readonly lastProbeAt: number | null;
  /** Slots it owns in its pool's layout. */
  readonly slots: number;
  /** Its share of its pool's key space (slots over the pool's slots). */
  readonly share: number;
  /** The share of its own clients it takes now (0–1). */
  readonly traffic: number;
  /** The share of its pool's clients it serves now, its successors' included (sampled). */
  readonly serving: number;
}

/** One pool's figures. */
export interface PoolFigures {
  readonly id: string;
  readonly slots: number;
  readonly eligible: number;
}

/** What the isolate that answers the scrape counted itself. */
export interface IsolateFigures {
  /** A random name the isolate drew when it started (a new one on every start). */
  readonly id: string;
  readonly startedAt: number;
  readonly requests: number;
  readonly errors: number;
  readonly refreshes: number;
  readonly locationHits: number;
  readonly refreshFailing: boolean;
  readonly snapshotAgeMs: number;
  readonly source: "durable-object" | "bootstrap";
}

/** Everything one scrape exposes. */
export interface MetricsInput {
  readonly epoch: number;
  readonly layoutEpoch: number;
  readonly panic: boolean;
  readonly eligible: number;
  readonly pools: readonly PoolFigures[];
  readonly origins: readonly OriginFigures[];
  /** Whether the Durable Object answered this scrape's health read in time. */
  readonly durableObjectUp: boolean;
  readonly lastProbeRoundAt: number | null;
  /** Calls the object served since it started, by method; null when it did not answer. */
  readonly calls: Readonly<Record<string, number>> | null;
  readonly isolate: IsolateFigures;
}

const STATES: readonly AdminState[] = ["active", "draining", "disabled"];
const HEALTHS: readonly ProbeStatus[] = ["up", "down", "unknown"];
const SOURCES: readonly IsolateFigures["source"][] = ["durable-object", "bootstrap"];

const bit = (on: boolean): number => (on ? 1 : 0);
const seconds = (ms: number): number => ms / 1000;

function family(name: string, type: MetricType, help: string, samples: readonly Sample[]): MetricFamily {
  return { name, type, help, samples };
}

/** The families of one scrape, in a fixed order. */
export function balancerMetrics(input: MetricsInput): MetricFamily[] {
  return [...deploymentFamilies(input), ...originFamilies(input.origins), ...isolateFamilies(input.isolate)];
}

function deploymentFamilies(input: MetricsInput): MetricFamily[] {
  const one = (value: number): Sample[] => [{ value }];
  const pool = (p: PoolFigures) => ({ pool: p.id });
  return [
    family(
      "lb_epoch",
      "gauge",
      "Epoch of the routing table served (bumped by every routing-relevant change).",
      one(input.epoch),
    ),
    family(
      "lb_layout_epoch",
      "gauge",
      "Epoch of the slot layouts (bumped by membership and weight changes).",
      one(input.layoutEpoch),
    ),
    family(
      "lb_panic",
      "gauge",
      "1 while panic mode routes over every active origin, healthy or not.",
      one(bit(input.panic)),
    ),
    family("lb_eligible_origins", "gauge", "Origins taking traffic now.", one(input.eligible)),
    family(
      "lb_pool_slots",
      "gauge",
      "Slots in the pool's layout (its key space).",
      input.pools.map((p) => ({ labels: pool(p), value: p.slots })),
    ),
    family(
      "lb_pool_eligible_origins",
      "gauge",
      "Origins of the pool taking traffic now.",
      input.pools.map((p) => ({ labels: pool(p), value: p.eligible })),
    ),
    family(
      "lb_durable_object_up",
      "gauge",
      "1 when the Durable Object answered this scrape in time.",
      one(bit(input.durableObjectUp)),
    ),
    family(
      "lb_last_probe_round_timestamp_seconds",
      "gauge",
      "When the Durable Object's last full probe round started (Unix time).",
      input.lastProbeRoundAt === null ? [] : [{ value: seconds(input.lastProbeRoundAt) }],
    ),
    family(
      "lb_durable_object_calls_total",
      "counter",
      "Calls the Durable Object served since it started, by method (resets when it restarts).",
      Object.entries(input.calls ?? {}).map(([method, value]) => ({ labels: { method }, value })),
    ),
  ];
}

function originFamilies(origins: readonly OriginFigures[]): MetricFamily[] {
  const labels = (o: OriginFigures) => ({ origin: o.id, pool: o.pool });
  const each = (value: (o: OriginFigures) => number | null): Sample[] =>
    origins.flatMap((o) => {
      const v = value(o);
      return v === null ? [] : [{ labels: labels(o), value: v }];
    });
  return [
    family(
      "lb_origin_weight",
      "gauge",
      "Configured weight.",
      each((o) => o.weight),
    ),
    family(
      "lb_origin_state",
      "gauge",
      "Administrative state: 1 for the state the origin is in, 0 for the others.",
      origins.flatMap((o) =>
        STATES.map((state) => ({ labels: { ...labels(o), state }, value: bit(o.state === state) })),
      ),
    ),
    family(
      "lb_origin_health",
      "gauge",
      "Active-probe verdict: 1 for the origin's, 0 for the others (unknown until the first verdict).",
      origins.flatMap((o) =>
        HEALTHS.map((health) => ({ labels: { ...labels(o), health }, value: bit(o.health === health) })),
      ),
    ),
    family(
      "lb_origin_ejected",
      "gauge",
      "1 while passive health has ejected the origin.",
      each((o) => bit(o.ejected)),
    ),
    family(
      "lb_origin_ejection_streak",
      "gauge",
      "Ejections in the current streak (the n-th lasts n times the base).",
      each((o) => o.ejections),
    ),
    family(
      "lb_origin_passive_failures",
      "gauge",
      "Consecutive failed client requests, merged over every isolate.",
      each((o) => o.passiveFailures),
    ),
    family(
      "lb_origin_probe_latency_seconds",
      "gauge",
      "Latency of the last health probe.",
      each((o) => (o.latencyMs === null ? null : seconds(o.latencyMs))),
    ),
    family(
      "lb_origin_last_probe_timestamp_seconds",
      "gauge",
      "When the last health probe ran (Unix time).",
      each((o) => (o.lastProbeAt === null ? null : seconds(o.lastProbeAt))),
    ),
    family(
      "lb_origin_slots",
      "gauge",
      "Slots the origin owns in its pool's layout.",
      each((o) => o.slots),
    ),
    family(
      "lb_origin_key_space_ratio",
      "gauge",
      "Share of its pool's key space the origin owns (its clients when every origin takes traffic).",
      each((o) => o.share),
    ),
    family(
      "lb_origin_traffic_ratio",
      "gauge",
      "Share of its own clients the origin takes now (health, ejection, slow start, drain).",
      each((o) => o.traffic),
    ),
    family(
      "lb_origin_serving_ratio",
      "gauge",
      "Share of its pool's clients the origin serves now, its successors' included (sampled).",
      each((o) => o.serving),
    ),
  ];
}

function isolateFamilies(isolate: IsolateFigures): MetricFamily[] {
  const labels = { isolate: isolate.id };
  const one = (value: number): Sample[] => [{ labels, value }];
  return [
    family(
      "lb_isolate_start_timestamp_seconds",
      "gauge",
      "When the isolate answering this scrape started counting (Unix time).",
      one(seconds(isolate.startedAt)),
    ),
    family("lb_isolate_requests_total", "counter", "Client requests this isolate served.", one(isolate.requests)),
    family(
      "lb_isolate_errors_total",
      "counter",
      "Client requests this isolate answered with a status of 500 or more.",
      one(isolate.errors),
    ),
    family(
      "lb_isolate_snapshot_refreshes_total",
      "counter",
      "Snapshot refreshes this isolate started.",
      one(isolate.refreshes),
    ),
    family(
      "lb_isolate_location_cache_hits_total",
      "counter",
      "Refreshes this isolate's location cache answered (no Durable Object call).",
      one(isolate.locationHits),
    ),
    family(
      "lb_isolate_snapshot_refresh_failing",
      "gauge",
      "1 when this isolate's last snapshot refresh failed.",
      one(bit(isolate.refreshFailing)),
    ),
    family(
      "lb_isolate_snapshot_age_seconds",
      "gauge",
      "Age of the snapshot this isolate routes on.",
      one(seconds(isolate.snapshotAgeMs)),
    ),
    family(
      "lb_isolate_snapshot_source",
      "gauge",
      "Where this isolate's table came from: 1 for its source, 0 for the other.",
      SOURCES.map((source) => ({ labels: { ...labels, source }, value: bit(isolate.source === source) })),
    ),
  ];
}
