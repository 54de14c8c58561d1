/**
 * The admin API's pure parts: what an origin URL entered through the API may be, the shape of a
 * change, and the disruption preview (who would move, computed from the slot arcs, not sampled).
 */
import { parseOrigin } from "../config/origins.ts";
import { type FieldError, type Result } from "../result.ts";
import { type OriginConfig, poolOf, type AdminState, type OriginRecord, type Region } from "../model.ts";
import { walkRing } from "../ring/ring.ts";
import { ringFromLayout, type SlotLayout } from "../ring/slot-layout.ts";
import { parseRegions } from "../config/regions.ts";
import { checkAdminUrl, type AdminUrlRules } from "./url-rules.ts";

/** One mutation of the origin set, as the Durable Object applies it. */
export type AdminChange =
  | { readonly op: "add"; readonly origin: OriginConfig; readonly state: AdminState }
  | { readonly op: "update"; readonly id: string; readonly fields: Partial<Omit<OriginConfig, "id">> }
  | { readonly op: "set-state"; readonly id: string; readonly state: AdminState }
  | { readonly op: "remove"; readonly id: string }
  /** Replaces the regional pools (REGIONS and DEFAULT_REGION as the Durable Object holds them). */
  | { readonly op: "set-regions"; readonly regions: readonly Region[]; readonly defaultRegion: string | null };

const STATES: readonly AdminState[] = ["active", "draining", "disabled"];

const fail = (field: string, message: string): { ok: false; errors: FieldError[] } => ({
  ok: false,
  errors: [{ field, message }],
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `POST /origins` body: { id, url, weight?, region?, state? }. */
export function parseAddBody(body: unknown, rules: AdminUrlRules): Result<AdminChange> {
  if (!isObject(body)) return fail("body", "must be a JSON object { id, url, weight?, region?, state? }");
  const { state = "active", ...rest } = body;
  if (!STATES.includes(state as AdminState)) return fail("state", `must be one of ${STATES.join(", ")}`);
  const parsed = parseOrigin(rest, "origin");
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map(unprefix) };
  const urlError = checkAdminUrl(parsed.value.url, rules);
  if (urlError !== null) return fail("url", urlError);
  return { ok: true, value: { op: "add", origin: parsed.value, state: state as AdminState } };
}

/** `PATCH /origins/:id` body: any of { url, weight, region } (region null clears it). */
export function parseUpdateBody(id: string, body: unknown, rules: AdminUrlRules): Result<AdminChange> {
  if (!isObject(body)) return fail("body", "must be a JSON object with any of url, weight, region");
  const keys = Object.keys(body);
  if (keys.length === 0) return fail("body", "must change at least one of url, weight, region");
  for (const key of keys) {
    if (key === "id") return fail("id", "cannot be changed: remove the origin and add it under the new id");
    if (key !== "url" && key !== "weight" && key !== "region") {
      return fail(key, "is not a field that can be updated (url, weight, region)");
    }
  }
  // Validate with the same rules as a whole origin, filling the untouched fields with valid dummies.
  const probe = { id, url: "https://placeholder.example", weight: 1, region: null, ...body };
  const parsed = parseOrigin(probe, "origin");
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map(unprefix) };
  if ("url" in body) {
    const urlError = checkAdminUrl(parsed.value.url, rules);
    if (urlError !== null) return fail("url", urlError);
  }
  const fields: { url?: string; weight?: number; region?: string | null } = {};
  if ("url" in body) fields.url = parsed.value.url;
  if ("weight" in body) fields.weight = parsed.value.weight;
  if ("region" in body) fields.region = parsed.value.region;
  return { ok: true, value: { op: "update", id, fields } };
}

/** `PUT /origins/:id/state` body: { state }. */
export function parseStateBody(id: string, body: unknown): Result<AdminChange> {
  if (!isObject(body) || Object.keys(body).some((key) => key !== "state")) {
    return fail("body", 'must be a JSON object { "state": "active" | "draining" | "disabled" }');
  }
  if (!STATES.includes(body.state as AdminState)) return fail("state", `must be one of ${STATES.join(", ")}`);
  return { ok: true, value: { op: "set-state", id, state: body.state as AdminState } };
}

/**
 * `PUT /regions` body: { regions: [{ id, latitude, longitude, countries?, continents? }, ...],
 * defaultRegion?: id | null }, validated as REGIONS and DEFAULT_REGION are.
 */
export function parseRegionsBody(body: unknown): Result<AdminChange> {
  if (!isObject(body)) return fail("body", "must be a JSON object { regions, defaultRegion? }");
  for (const key of Object.keys(body)) {
    if (key !== "regions" && key !== "defaultRegion") return fail(key, "is not a field (regions, defaultRegion)");
  }
  if (!Array.isArray(body.regions)) return fail("regions", "must be an array of regions (may be empty)");
  const parsed = parseRegions(body.regions, "regions");
  if (!parsed.ok) return parsed;
  const defaultRegion = body.defaultRegion ?? null;
  if (defaultRegion !== null && !parsed.value.some((region) => region.id === defaultRegion)) {
    return fail("defaultRegion", `must be null or the id of one of regions (got ${JSON.stringify(defaultRegion)})`);
  }
  return {
    ok: true,
    value: { op: "set-regions", regions: parsed.value, defaultRegion: defaultRegion as string | null },
  };
}

function unprefix(error: FieldError): FieldError {
  return { ...error, field: error.field.replace(/^origin\.?/, "") || "body" };
}

/** What a change would do to the clients, by share of the hashed key space. */
export interface Preview {
  /**
   * Share of the key space whose primary origin changes. Keys are hashed uniformly, so this is the
   * share of IPv4 addresses and of IPv6 /64s alike (with the default prefixes), exactly for the
   * hash space and in expectation for any set of clients.
   */
  readonly share: number;
  /** share × 2^32 and share × 2^64: the same figure as counts of each address space. */
  readonly ipv4Addresses: number;
  readonly ipv6Prefixes: number;
  /** From → to, largest first; `to` null = no eligible origin (those clients would get 503). */
  readonly flows: readonly { readonly from: string | null; readonly to: string | null; readonly share: number }[];
  /**
   * Per pool (each share is of that pool's clients: the clients steered to its region), when the
   * deployment has regional pools; the figures above are then the worst pool's share and every
   * pool's flows.
   */
  readonly pools?: readonly ({ readonly pool: string } & Omit<Preview, "pools">)[];
}

/** A deployment as the preview sees it: the slot layout and every origin's record. */
export interface PreviewSide {
  readonly layout: SlotLayout;
  readonly origins: readonly OriginRecord[];
}

/**
 * Who would move: for every slot, the primary before and after, with each origin counted as it
 * will settle (active and not down or ejected → takes traffic; draining and disabled → none;
 * ramps complete), summed over the slots' arcs. O(slots), a few ms at 131,071 slots.
 */
export function previewChange(before: PreviewSide, after: PreviewSide, now: number): Preview {
  const first = primaries(before, now);
  const second = primaries(after, now);
  const size = before.layout.owners.length;
  const otherSize = after.layout.owners.length;
  const flows = new Map<string, { from: string | null; to: string | null; share: number }>();
  let share = 0;
  // Both tables cover the 32-bit key space with equal arcs; when their sizes differ (a refill),
  // walk the union of their boundaries. A key goes to the first slot at or after it (walkRing), so
  // arc (start, end] belongs to the slot at `end`; the last arc's end, 2^32, stands for key 0.
  const boundaries = mergeBoundaries(size, otherSize);
  for (let b = 0; b < boundaries.length - 1; b++) {
    const end = boundaries[b + 1]!;
    const width = (end - boundaries[b]!) / 4_294_967_296;
    const from = first.at(end);
    const to = second.at(end);
    if (from === to) continue;
    share += width;
    const key = `${from}\u0000${to}`;
    const flow = flows.get(key) ?? { from, to, share: 0 };
    flow.share += width;
    flows.set(key, flow);
  }
  return {
    share,
    ipv4Addresses: Math.round(share * 2 ** 32),
    ipv6Prefixes: share * 2 ** 64,
    flows: [...flows.values()].sort((a, b) => b.share - a.share),
  };
}

/** The primary origin id (or null) for a key hash, per slot of one side. */
function primaries(side: PreviewSide, now: number): { at(keyHash: number): string | null } {
  const ring = ringFromLayout(side.layout);
  const byId = new Map(side.origins.map((origin) => [origin.id, origin]));
  const weights = Float64Array.from(ring.ids, (id) => (settles(byId.get(id), now) ? 1 : 0));
  const size = ring.points.length;
  const owner: (string | null)[] = new Array(size);
  const out = new Uint32Array(1);
  for (let slot = 0; slot < size; slot++) {
    owner[slot] = walkRing(ring, ring.points[slot]!, weights, out) === 1 ? ring.ids[out[0]!]! : null;
  }
  const { points } = ring;
  return {
    at(keyHash) {
      // The first slot whose point is ≥ keyHash, wrapping to slot 0, as walkRing finds it.
      if (size === 0) return null;
      let low = 0;
      let high = size;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (points[mid]! < keyHash) low = mid + 1;
        else high = mid;
      }
      return owner[low === size ? 0 : low]!;
    },
  };
}

function settles(origin: OriginRecord | undefined, now: number): boolean {
  if (origin === undefined || origin.state !== "active") return false;
  const { status, ejectedUntil } = origin.health;
  return status !== "down" && !(ejectedUntil !== null && now < ejectedUntil);
}

/** Sorted slot boundaries of two equal-arc tables over [0, 2^32], as key hashes. */
function mergeBoundaries(a: number, b: number): number[] {
  const points = new Set<number>([0, 4_294_967_296]);
  for (const size of [a, b]) {
    for (let i = 1; i < size; i++) points.add(Math.floor((i * 4_294_967_296) / size));
  }
  return [...points].sort((x, y) => x - y);
}

/** Both sides of a change with every pool's layout (what the Durable Object holds). */
export interface PoolsSide {
  readonly layouts: Readonly<Record<string, SlotLayout>>;
  readonly origins: readonly OriginRecord[];
  /** The declared regions' ids: an origin whose region is not one of them is in the catch-all pool. */
  readonly regionIds: ReadonlySet<string>;
}

const EMPTY_LAYOUT: SlotLayout = { epoch: 0, ids: [], weights: [], slotsPerMember: 1, owners: new Uint16Array(0) };

/**
 * `previewChange` per pool. With one pool it is that pool's preview; with several, each pool's
 * share is of its own clients, and the top level carries the worst pool's share and all flows. A
 * pool that exists on one side only counts as empty on the other (its clients go from or to
 * "no origin" there); which clients a region is steered is geography, not part of the preview.
 */
export function previewPools(before: PoolsSide, after: PoolsSide, now: number): Preview {
  const ids = [...new Set([...Object.keys(before.layouts), ...Object.keys(after.layouts)])].sort();
  const side = (of: PoolsSide, pool: string): PreviewSide => ({
    layout: of.layouts[pool] ?? EMPTY_LAYOUT,
    origins: of.origins.filter((origin) => poolOf(origin.region, of.regionIds) === pool),
  });
  const pools = ids.map((pool) => ({ pool, ...previewChange(side(before, pool), side(after, pool), now) }));
  if (pools.length === 1) {
    const { pool: _pool, ...only } = pools[0]!;
    return only;
  }
  const worst = pools.reduce((a, b) => (b.share > a.share ? b : a));
  return {
    share: worst.share,
    ipv4Addresses: worst.ipv4Addresses,
    ipv6Prefixes: worst.ipv6Prefixes,
    flows: pools.flatMap((pool) => pool.flows).sort((a, b) => b.share - a.share),
    pools,
  };
}
