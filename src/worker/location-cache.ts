/**
 * The per-location snapshot cache: the isolates of one Cloudflare location share what the Durable
 * Object said through the Cache API (`caches.default`, which is per data center and never
 * replicated), so the object's refresh load is about locations / (SNAPSHOT_TTL_MS / 2) instead of
 * isolates / SNAPSHOT_TTL_MS (README "Design", scale table).
 *
 * Three kinds of entries under the reserved prefix of the request's own host (Cloudflare's advice
 * for Cache API keys; nothing under the prefix is ever forwarded, so no origin path can collide)
 * and the ring object's id (so two deployments serving one host never read each other's):
 * - `head`: the newest epoch the location has seen, with the small fields of an update; it lives
 *   SNAPSHOT_TTL_MS / 2, so a change reaches every isolate within about 1.5 × SNAPSHOT_TTL_MS;
 * - `epoch/N`: the origin list and regions at epoch N, and `layouts/N`: the slot layouts of layout
 *   epoch N. Both are immutable (every change bumps the epoch), so they live longer.
 * The cache is an optimisation only: a miss, an error, a head older than the isolate's table, or a
 * host without the Cache API (workers.dev) all fall through to the Durable Object.
 */
import type { Region, OriginRecord } from "../core/model.ts";
import type { FieldError } from "../core/result.ts";
import type { Settings } from "../core/config/settings.ts";
import type { SlotLayout } from "../core/ring/slot-layout.ts";
import type { Placement } from "../core/placement/placement.ts";
import type { Env } from "./env.ts";
import { RING_OBJECT_NAME } from "../ring-store/protocol.ts";
import type { SnapshotUpdate } from "../ring-store/protocol.ts";

/** The small part of an update, as the `head` entry holds it. */
interface Head {
  readonly epoch: number;
  readonly layoutEpoch: number;
  readonly defaultRegion: string | null;
  readonly bootstrapErrors: readonly FieldError[];
}

interface Body {
  readonly origins: readonly OriginRecord[];
  readonly regions: readonly Region[] | null;
  /** Absent in entries written before placements existed: none. */
  readonly placements?: readonly Placement[] | null;
}

/** Where the entries live, and for how long; null when the cache is off. */
export interface LocationCache {
  readonly cache: Cache;
  /** `https://host/__lb/snapshot-cache` */
  readonly base: string;
  readonly headSeconds: number;
  readonly bodySeconds: number;
}

/**
 * The location cache for requests to `origin` (scheme and host), or null when LOCATION_CACHE is
 * off, the runtime has no Cache API, or the TTL is under 2 s (the head's whole-second max-age
 * would be 0, which caches nothing).
 */
export function locationCache(
  origin: string,
  prefix: string,
  ttlMs: number,
  enabled: boolean,
  /** The ring object's id: two deployments on one host (staging and production) never share entries. */
  deployment = "",
  store: { readonly default: Cache } | undefined = typeof caches === "undefined" ? undefined : caches,
): LocationCache | null {
  const headSeconds = Math.floor(ttlMs / 2000);
  if (!enabled || store === undefined || headSeconds < 1) return null;
  return {
    cache: store.default,
    base: `${origin}${prefix}/snapshot-cache${deployment === "" ? "" : `/${deployment}`}`,
    headSeconds,
    bodySeconds: Math.max(60, headSeconds * 20),
  };
}

let memo: { origin: string; settings: Settings; location: LocationCache | null } | null = null;

/**
 * `locationCache` for a request URL's origin (URL.origin: `scheme://host[:port]`) under these
 * settings and this deployment's ring object, kept while they stay the same.
 */
export function locationFor(origin: string, settings: Settings, env: Env): LocationCache | null {
  if (memo === null || memo.origin !== origin || memo.settings !== settings) {
    const deployment = env.RING.idFromName(RING_OBJECT_NAME).toString();
    const location = locationCache(
      origin,
      settings.lbPrefix,
      settings.snapshotTtlMs,
      settings.locationCache,
      deployment,
    );
    memo = { origin, settings, location };
  }
  return memo.location;
}

/** What the location knows that the caller (at `knownEpoch` / `knownLayoutEpoch`) lacks, or null to ask the object. */
export async function readLocation(
  location: LocationCache,
  knownEpoch: number | null,
  knownLayoutEpoch: number | null,
): Promise<SnapshotUpdate | null> {
  const head = await match<Head>(location, "head");
  // A head behind the caller (a slower isolate wrote it) must not take the caller back.
  if (head === null || (knownEpoch !== null && head.epoch < knownEpoch)) return null;
  const needBody = head.epoch !== knownEpoch;
  const needLayouts = head.layoutEpoch !== knownLayoutEpoch;
  const body = needBody ? await match<Body>(location, `epoch/${head.epoch}`) : null;
  if (needBody && body === null) return null;
  const layouts = needLayouts
    ? await match<Record<string, EncodedLayout>>(location, `layouts/${head.layoutEpoch}`)
    : null;
  if (needLayouts && layouts === null) return null;
  return {
    epoch: head.epoch,
    layoutEpoch: head.layoutEpoch,
    origins: body?.origins ?? null,
    regions: body?.regions ?? null,
    placements: body === null ? null : (body.placements ?? []),
    layouts: layouts === null ? null : decodeLayouts(layouts),
    defaultRegion: head.defaultRegion,
    bootstrapErrors: head.bootstrapErrors,
  };
}

/** The epoch this location's head names, or null when it has none. */
export async function locationEpoch(location: LocationCache): Promise<number | null> {
  return (await match<Head>(location, "head"))?.epoch ?? null;
}

/** Shares an answer of the object with the location: the head, and the immutable parts it carried. */
export async function writeLocation(location: LocationCache, update: SnapshotUpdate): Promise<void> {
  const current = await match<Head>(location, "head");
  const writes: Promise<void>[] = [];
  if (update.origins !== null) {
    const body: Body = { origins: update.origins, regions: update.regions, placements: update.placements ?? [] };
    writes.push(put(location, `epoch/${update.epoch}`, body, location.bodySeconds));
  }
  if (update.layouts !== null) {
    writes.push(put(location, `layouts/${update.layoutEpoch}`, encodeLayouts(update.layouts), location.bodySeconds));
  }
  await Promise.all(writes);
  // The head last, so no isolate follows it to an entry not yet written; never backwards.
  if (current === null || current.epoch <= update.epoch) {
    const head: Head = {
      epoch: update.epoch,
      layoutEpoch: update.layoutEpoch,
      defaultRegion: update.defaultRegion,
      bootstrapErrors: update.bootstrapErrors,
    };
    await put(location, "head", head, location.headSeconds);
  }
}

async function match<T>(location: LocationCache, name: string): Promise<T | null> {
  const response = await location.cache.match(`${location.base}/${name}`);
  if (response === undefined) return null;
  return (await response.json()) as T;
}

function put(location: LocationCache, name: string, value: unknown, seconds: number): Promise<void> {
  return location.cache.put(
    `${location.base}/${name}`,
    new Response(JSON.stringify(value), {
      headers: { "content-type": "application/json", "cache-control": `max-age=${seconds}` },
    }),
  );
}

/** A slot layout as JSON: the owners as base64 of their little-endian uint16 bytes. */
interface EncodedLayout extends Omit<SlotLayout, "owners"> {
  readonly owners: string;
}

export function encodeLayouts(layouts: Readonly<Record<string, SlotLayout>>): Record<string, EncodedLayout> {
  const out: Record<string, EncodedLayout> = {};
  for (const [pool, layout] of Object.entries(layouts)) {
    const bytes = new Uint8Array(Uint16Array.from(layout.owners).buffer);
    let binary = "";
    // Chunks keep String.fromCharCode's argument count small.
    for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
    out[pool] = { ...layout, owners: btoa(binary) };
  }
  return out;
}

export function decodeLayouts(encoded: Readonly<Record<string, EncodedLayout>>): Record<string, SlotLayout> {
  const out: Record<string, SlotLayout> = {};
  for (const [pool, layout] of Object.entries(encoded)) {
    const binary = atob(layout.owners);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    out[pool] = { ...layout, owners: new Uint16Array(bytes.buffer) };
  }
  return out;
}
