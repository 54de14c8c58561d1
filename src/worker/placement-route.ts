/**
 * The request path's side of load-aware placement (README "Load-aware placement"): when the
 * snapshot places the client's key off its ring primary, the origins to try are the placement's
 * target for this user and then the target's successors along the key's ring walk. Every other
 * request is untouched; request.ts calls in here only when the table has placements at all.
 *
 * A split key (several targets) pins each user with the signed affinity cookie (affinity-cookie.ts).
 * A browser without a valid cookie is drawn at random among the targets (by their weights) and the
 * cookie set on that same response records the draw, so the first request goes where the cookie
 * sends the later ones and a browser never changes origin because of the cookie. A client that is
 * not a browser (no cookies to keep) stays on the key's primary, as the planner assumes. A cookie
 * that fails its MAC, has expired, or names another key or an origin that is no longer a target is
 * ignored (and counted), never trusted: its user is treated as one without a cookie.
 */
import type { Settings } from "../core/config/settings.ts";
import { cookieValue } from "../core/key/affinity-key.ts";
import { formatClientKey, type ClientKey } from "../core/key/client-key.ts";
import { poolOf, type OriginRecord } from "../core/model.ts";
import { fullWalk } from "../core/placement/pool-load.ts";
import { findPlacement, placedOrder, targetFor } from "../core/placement/resolve-placement.ts";
import { keyThreshold } from "../core/ring/ring.ts";
import { xxh32String } from "../core/hash.ts";
import type { RoutingView } from "../core/routing/routing-view.ts";
import { checkPin, cookieKey, setCookieLine, signPin } from "./affinity-cookie.ts";
import type { CachedTable } from "./cached-table.ts";
import { userTraitHash } from "./edge-traffic.ts";
import type { Env } from "./env.ts";

/** What this isolate did with placed requests since it started (the status JSON shows it). */
export interface PlacementCounters {
  /** Requests routed by a placement. */
  placed: number;
  /** Requests of a split key routed by a valid cookie. */
  pinned: number;
  /** Cookies issued. */
  issued: number;
  /** Cookies ignored: a wrong MAC or a malformed value, expired, or a valid one for another key or target. */
  forged: number;
  expired: number;
  stale: number;
}

const counters: PlacementCounters = { placed: 0, pinned: 0, issued: 0, forged: 0, expired: 0, stale: 0 };

/** This isolate's counters (a copy). */
export function placementCounters(): PlacementCounters {
  return { ...counters };
}

/** Zeroes the counters (tests only: module scope outlives a test). */
export function resetPlacementCounters(): void {
  for (const name of Object.keys(counters) as (keyof PlacementCounters)[]) counters[name] = 0;
}

/**
 * Reorders `candidates` (the ring's order, in place) when the key is placed, and returns the
 * Set-Cookie line to add to the response, or null. A placement whose targets are not in the pool
 * the ring chose (another region served this client) is not applied.
 */
export async function placeRequest(
  request: Request,
  cached: CachedTable,
  view: RoutingView,
  key: ClientKey,
  keyHash: number,
  candidates: OriginRecord[],
  settings: Settings,
  env: Env,
  now: number = Date.now(),
): Promise<string | null> {
  // A header, cookie or path key (AFFINITY_KEY) is the client's to vary: placements are by address.
  if (settings.affinity.kind !== "ip" || candidates.length === 0 || key.kind === "fallback") return null;
  const placement = findPlacement(cached.placements, keyHash, () => formatClientKey(key));
  if (placement === null) return null;
  const { table } = cached;
  const p = table.poolIndex.get(poolOf(candidates[0]!.region ?? null, table.regionIds));
  const pool = p === undefined ? undefined : table.pools[p];
  if (pool === undefined || !pool.ring.ids.includes(placement.targets[0]?.origin ?? "")) return null;

  let target = placement.targets[0]!.origin;
  let cookie: string | null = null;
  let drawHash: number | null = null;
  if (placement.targets.length > 1) {
    const { affinityCookieName: name, affinityCookieTtlS: ttl } = settings.placement;
    const signing = cookieKey(env as unknown as Record<string, unknown>);
    const key = signing === null ? null : await signing;
    const value = key === null ? null : cookieValue(request.headers.get("cookie"), name);
    const nowS = Math.floor(now / 1000);
    let pinned = false;
    if (key !== null && value !== null) {
      const check = await checkPin(key, value, nowS);
      if (!check.ok) counters[check.reason]++;
      else if (check.pin.keyHash !== keyHash >>> 0 || placement.targets[check.pin.index]?.origin !== check.pin.origin) {
        counters.stale++;
      } else {
        target = check.pin.origin;
        drawHash = xxh32String(value);
        pinned = true;
        counters.pinned++;
      }
    }
    if (!pinned && key === null) {
      // No secret, no cookie: users are told apart by what their software says, which keeps each
      // one on one origin but puts every user of one browser build on the same target.
      drawHash = userTraitHash(request.headers);
      target = targetFor(placement, drawHash);
    } else if (!pinned && isBrowser(request.headers)) {
      // A fresh random draw per user, so users of identical browsers spread too; the cookie set on
      // this very response records it, so the first request already goes where the rest will.
      drawHash = crypto.getRandomValues(new Uint32Array(1))[0]!;
      target = targetFor(placement, drawHash);
      const index = placement.targets.findIndex((t) => t.origin === target);
      const signed = await signPin(key!, { keyHash: keyHash >>> 0, index, origin: target, expiresAt: nowS + ttl });
      cookie = setCookieLine(name, signed, ttl, request.url.startsWith("https:"));
      counters.issued++;
    }
    // Otherwise (an API client, which keeps no cookies) it stays on the key's primary, targets[0].
  }

  // The key's whole walk in this pool, so a down target falls to its own successor and comes back.
  const walk = fullWalk(pool.ring, keyHash);
  const weights = view.poolWeights[p!]!;
  const member = new Map(walk.map((m) => [pool.ring.ids[m]!, m]));
  // A ramping origin (slow start, drain) takes the same fraction of its placed users as the ring
  // gives it of its own clients: a fixed draw per (user, origin), so the same users come back first.
  const draw = drawHash ?? keyHash;
  const takes = (id: string) => {
    const weight = weights[member.get(id)!]!;
    return weight >= 1 || (weight > 0 && keyThreshold(draw >>> 0, xxh32String(id)) < weight);
  };
  const order = placedOrder(
    target,
    walk.map((m) => pool.ring.ids[m]!),
    takes,
    settings.maxAttempts,
  );
  if (order.length === 0) return cookie;
  const placed = order.map((id) => table.origins[pool.members[member.get(id)!]!]!);
  // The ring's other candidates (another region's) keep the places left.
  const rest = candidates.filter((origin) => !order.includes(origin.id));
  candidates.splice(0, candidates.length, ...[...placed, ...rest].slice(0, settings.maxAttempts));
  counters.placed++;
  return cookie;
}

/**
 * True for a client that presents itself as a browser (every major browser's User-Agent starts with
 * "Mozilla/", RFC 9110 §10.1.5 notwithstanding): one that keeps cookies. Anything else (curl, SDKs,
 * API clients) would lose the cookie and be drawn afresh on every request, so it is not drawn.
 */
function isBrowser(headers: Headers): boolean {
  return headers.get("user-agent")?.startsWith("Mozilla/") === true;
}

/** `response` with the affinity cookie added: rebuilt only because an origin's headers are immutable. */
export function withAffinityCookie(response: Response, cookie: string): Response {
  if (response.status === 101) return response;
  const out = new Response(response.body, response);
  out.headers.append("set-cookie", cookie);
  return out;
}
