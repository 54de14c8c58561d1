/**
 * This isolate's traffic counters (core/traffic-stats.ts) in module scope: what the status page
 * shows under "this isolate". Every isolate counts only the requests it served itself, and starts
 * from zero when the runtime starts it.
 */
import type { ClientKey } from "../core/key/client-key.ts";
import {
  createTrafficStats,
  recordTraffic,
  trafficSnapshot,
  type TrafficSnapshot,
} from "../core/status/traffic-stats.ts";

let stats = createTrafficStats();

// Random values and the clock are unavailable at global scope in Workers: both are taken on first use.
let identity: { readonly id: string; readonly since: number } | null = null;

/** A random name for this isolate and when it first counted or showed anything (ms since the Unix epoch). */
export function isolateIdentity(now: number = Date.now()): { readonly id: string; readonly since: number } {
  identity ??= {
    id: Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join(""),
    since: now,
  };
  return identity;
}

/** Counts one client request by its client key (null when refused before it had one) and final status. */
export function countRequest(key: ClientKey | null, keyHash: number, status: number, now: number = Date.now()): void {
  if (identity === null) isolateIdentity(now);
  recordTraffic(stats, key, keyHash, status, now);
}

/** This isolate's figures at `now`. */
export function isolateTraffic(now: number = Date.now()): TrafficSnapshot {
  return trafficSnapshot(stats, now);
}

/** Forgets the counts (tests only: module scope outlives a test). */
export function resetTraffic(): void {
  stats = createTrafficStats();
  identity = null;
}
