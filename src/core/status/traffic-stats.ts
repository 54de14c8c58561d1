/**
 * What one isolate saw of client traffic, for the status page and the metrics: requests and errors over a sliding
 * window of one-second buckets and in total (a metrics counter must never fall), and the hottest client keys (the /32
 * or /64 the balancer hashes). A NAT gateway or a crawler sending far more than its share is what breaks IP affinity
 * in practice: all of it lands on one origin.
 *
 * The hot keys are counted with the space-saving algorithm (Metwally, Agrawal, El Abbadi, "Efficient Computation of
 * Frequent and Top-k Elements in Data Streams", ICDT 2005, §3): k counters; a key not held takes over the smallest one
 * and inherits its count as its possible overestimate. So every key with more than N/k of the N requests is held, and
 * no count is more than N/k too high. Counting runs in generations of one window; a snapshot merges the current and
 * the previous one, so the list covers the last one to two windows and forgets old traffic.
 *
 * Pure: the clock is a parameter. A call costs a fixed amount (two scans of k = 20 entries at most) and allocates
 * nothing: the key object the request made anyway is kept by reference, and formatted as text only for a snapshot.
 * Measured with `node scripts/traffic-stats-cost.ts` (Node 22, a shared 2-core machine, the benchmark loop's own cost
 * taken off): 20–30 ns per call when the keys are held, 45–90 ns when every request brings a key not held (each evicts
 * the smallest counter), and no garbage collection at all in 13M calls.
 */
import { formatClientKey, type ClientKey } from "../key/client-key.ts";

/** Window and list size. */
export interface TrafficOptions {
  /** Seconds in the rate window (one bucket each), and the length of a hot-key generation. */
  readonly windowSeconds: number;
  /** Hot keys held (space-saving counters). */
  readonly topK: number;
}

/** One minute in one-second buckets; 20 hot keys. */
export const DEFAULT_TRAFFIC_OPTIONS: TrafficOptions = { windowSeconds: 60, topK: 20 };

interface Generation {
  /** When this generation started (ms since the Unix epoch); NaN while it has seen nothing. */
  startedAt: number;
  /** Requests with a client key counted in this generation. */
  requests: number;
  size: number;
  readonly hashes: Uint32Array;
  readonly counts: Float64Array;
  readonly overestimates: Float64Array;
  readonly keys: (ClientKey | null)[];
}

/** The counters of one isolate (module scope in the Worker). */
export interface TrafficStats {
  readonly options: TrafficOptions;
  /** The second (⌊ms / 1000⌋) each bucket counts; −1 when unused. */
  readonly seconds: Float64Array;
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  /** The first second anything was recorded in: rates divide by the time covered, not the whole window. */
  firstSecond: number;
  readonly totals: { requests: number; errors: number };
  current: Generation;
  previous: Generation;
}

/** One hot client key. */
export interface HotKey {
  /** The key as text: "203.0.113.7/32", "2001:db8:1:2::/64", "fallback:missing". */
  readonly key: string;
  /** xxh32 of the key bytes: where it lands on the ring. */
  readonly hash: number;
  /** Requests counted: at least the true number, at most `overestimate` above it. */
  readonly count: number;
  readonly overestimate: number;
  /** count − overestimate: requests it certainly sent. The list is sorted by it. */
  readonly guaranteed: number;
  /** guaranteed / requests of the span: the share it certainly had. */
  readonly share: number;
}

/** What the status page shows. */
export interface TrafficSnapshot {
  readonly windowSeconds: number;
  /** Seconds of the window this isolate has been counting (≤ windowSeconds). */
  readonly coveredSeconds: number;
  readonly requests: number;
  /** Responses with status ≥ 500: origin errors passed through and the balancer's own. */
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly totals: { readonly requests: number; readonly errors: number };
  /** Per second, oldest first, the current second last (windowSeconds entries each). */
  readonly series: { readonly requests: readonly number[]; readonly errors: readonly number[] };
  readonly hot: {
    /** Start of the span the hot keys were counted over (ms since the Unix epoch), or null if none. */
    readonly since: number | null;
    /** Requests in that span. */
    readonly requests: number;
    readonly keys: readonly HotKey[];
  };
}

/** Empty counters. */
export function createTrafficStats(options: TrafficOptions = DEFAULT_TRAFFIC_OPTIONS): TrafficStats {
  const window = Math.max(1, Math.floor(options.windowSeconds));
  const k = Math.max(1, Math.floor(options.topK));
  return {
    options: { windowSeconds: window, topK: k },
    seconds: new Float64Array(window).fill(-1),
    requests: new Float64Array(window),
    errors: new Float64Array(window),
    firstSecond: -1,
    totals: { requests: 0, errors: 0 },
    current: generation(k),
    previous: generation(k),
  };
}

/**
 * Counts one client request and its response status at `now`. `key` is the client key the
 * request was routed by (null when there was none, e.g. refused before routing) and `keyHash`
 * its xxh32, which the caller has computed for the ring anyway.
 */
export function recordTraffic(
  stats: TrafficStats,
  key: ClientKey | null,
  keyHash: number,
  status: number,
  now: number,
): void {
  stats.totals.requests++;
  if (status >= 500) stats.totals.errors++;
  const second = Math.floor(now / 1000);
  const window = stats.seconds.length;
  const bucket = second % window;
  const held = stats.seconds[bucket]!;
  if (held !== second) {
    // A bucket holding a later second means `now` went back by a whole window: not counted.
    if (held > second) return;
    stats.seconds[bucket] = second;
    stats.requests[bucket] = 0;
    stats.errors[bucket] = 0;
  }
  stats.requests[bucket]!++;
  if (status >= 500) stats.errors[bucket]!++;
  if (stats.firstSecond < 0) stats.firstSecond = second;
  if (key === null) return;

  let current = stats.current;
  const age = now - current.startedAt;
  if (age >= window * 1000) {
    const retired = current;
    current = stats.previous;
    stats.previous = retired;
    stats.current = current;
    clear(current);
    // The retired generation counted its first window only; two windows on, all of it is old.
    if (age >= 2 * window * 1000) clear(retired);
  }
  if (current.startedAt !== current.startedAt) current.startedAt = now;
  current.requests++;
  offer(current, key, keyHash >>> 0);
}

/** The figures at `now`. Allocates (formats the hot keys); meant for the status page, not the request path. */
export function trafficSnapshot(stats: TrafficStats, now: number): TrafficSnapshot {
  const window = stats.seconds.length;
  const nowSecond = Math.floor(now / 1000);
  const series = { requests: new Array<number>(window).fill(0), errors: new Array<number>(window).fill(0) };
  let requests = 0;
  let errors = 0;
  for (let bucket = 0; bucket < window; bucket++) {
    const age = nowSecond - stats.seconds[bucket]!;
    if (stats.seconds[bucket]! < 0 || age < 0 || age >= window) continue;
    series.requests[window - 1 - age] = stats.requests[bucket]!;
    series.errors[window - 1 - age] = stats.errors[bucket]!;
    requests += stats.requests[bucket]!;
    errors += stats.errors[bucket]!;
  }
  const covered = stats.firstSecond < 0 ? 0 : Math.max(1, Math.min(window, nowSecond - stats.firstSecond + 1));
  return {
    windowSeconds: window,
    coveredSeconds: covered,
    requests,
    errors,
    requestsPerSecond: covered === 0 ? 0 : requests / covered,
    errorsPerSecond: covered === 0 ? 0 : errors / covered,
    totals: { ...stats.totals },
    series,
    hot: hotKeys(stats, now),
  };
}

function generation(k: number): Generation {
  return {
    startedAt: Number.NaN,
    requests: 0,
    size: 0,
    hashes: new Uint32Array(k),
    counts: new Float64Array(k),
    overestimates: new Float64Array(k),
    keys: new Array<ClientKey | null>(k).fill(null),
  };
}

function clear(g: Generation): void {
  g.startedAt = Number.NaN;
  g.requests = 0;
  g.size = 0;
  // Drop the references, so evicted keys can be collected.
  g.keys.fill(null);
}

function sameKey(a: ClientKey, b: ClientKey): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  const x = a.bytes;
  const y = b.bytes;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return a.kind === "fallback" || (b.kind !== "fallback" && a.prefix === b.prefix);
}

function offer(g: Generation, key: ClientKey, hash: number): void {
  const { hashes, counts, keys } = g;
  const size = g.size;
  for (let i = 0; i < size; i++) {
    if (hashes[i] === hash && sameKey(keys[i]!, key)) {
      counts[i]!++;
      return;
    }
  }
  if (size < hashes.length) {
    hashes[size] = hash;
    counts[size] = 1;
    g.overestimates[size] = 0;
    keys[size] = key;
    g.size = size + 1;
    return;
  }
  let smallest = 0;
  for (let i = 1; i < size; i++) if (counts[i]! < counts[smallest]!) smallest = i;
  hashes[smallest] = hash;
  g.overestimates[smallest] = counts[smallest]!;
  counts[smallest]!++;
  keys[smallest] = key;
}

// The smallest count of a full generation: a key it does not hold had at most that many there
// (a generation that never filled up evicted nothing, so it holds every key it saw).
function floorOf(g: Generation): number {
  if (g.size < g.hashes.length) return 0;
  let smallest = g.counts[0]!;
  for (let i = 1; i < g.size; i++) if (g.counts[i]! < smallest) smallest = g.counts[i]!;
  return smallest;
}

function hotKeys(stats: TrafficStats, now: number): TrafficSnapshot["hot"] {
  const window = stats.seconds.length * 1000;
  const { current, previous } = stats;
  const age = now - current.startedAt;
  // As if the generations had been rotated at `now`: the previous one counts only while the
  // current one is within its window, the current one only within two.
  const live = !(age < 2 * window) ? [] : age < window && previous.size > 0 ? [previous, current] : [current];
  if (live.length === 0 || live.every((g) => g.size === 0)) return { since: null, requests: 0, keys: [] };
  const requests = live.reduce((sum, g) => sum + g.requests, 0);
  const floors = live.map(floorOf);
  // Per key: held in a generation, its count and overestimate there; not held, up to that
  // generation's floor (both as count and as overestimate).
  const merged: { key: ClientKey; hash: number; count: number; overestimate: number; seen: number }[] = [];
  live.forEach((g, index) => {
    for (let i = 0; i < g.size; i++) {
      const key = g.keys[i]!;
      const hash = g.hashes[i]!;
      let entry = merged.find((e) => e.hash === hash && sameKey(e.key, key));
      if (entry === undefined) {
        entry = { key, hash, count: 0, overestimate: 0, seen: 0 };
        merged.push(entry);
      }
      entry.count += g.counts[i]!;
      entry.overestimate += g.overestimates[i]!;
      entry.seen |= 1 << index;
    }
  });
  for (const entry of merged) {
    floors.forEach((floor, index) => {
      if ((entry.seen & (1 << index)) === 0) {
        entry.count += floor;
        entry.overestimate += floor;
      }
    });
  }
  // By the guaranteed count: under a long tail of one-off clients the smallest counters are mostly
  // inherited (count ≈ N/k, guaranteed ≈ 0), and those must not outrank a real heavy hitter.
  merged.sort((a, b) => b.count - b.overestimate - (a.count - a.overestimate) || b.count - a.count || a.hash - b.hash);
  return {
    since: live[0]!.startedAt,
    requests,
    keys: merged.slice(0, stats.options.topK).map((entry) => ({
      key: formatClientKey(entry.key),
      hash: entry.hash,
      count: entry.count,
      overestimate: entry.overestimate,
      guaranteed: entry.count - entry.overestimate,
      share: requests === 0 ? 0 : (entry.count - entry.overestimate) / requests,
    })),
  };
}
