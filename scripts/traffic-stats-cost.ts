/**
 * What `recordTraffic` (src/core/status/traffic-stats.ts) costs per request: median ns per call over
 * batches of 1M calls, less the same loop without the call, for three key streams, and the
 * garbage collections seen while recording (none means no allocation worth one). A script, not a test: it prints figures and asserts nothing.
 *
 *   node scripts/traffic-stats-cost.ts
 */
import { PerformanceObserver } from "node:perf_hooks";
import { clientKey, type ClientKey } from "../src/core/key/client-key.ts";
import { xxh32 } from "../src/core/hash.ts";
import { createTrafficStats, recordTraffic, trafficSnapshot } from "../src/core/status/traffic-stats.ts";
import { random32 } from "./lib/random.ts";
import { upperMedian } from "./lib/stats.ts";

const CALLS = 1_000_000;
const BATCHES = 15;
const STEP_MS = 0.05; // the fake clock advances 50 µs per call: 20,000 requests/s, rotations included

// Keys are made up front, as the worker makes them per request before it records.
function keys(count: number): { key: ClientKey; hash: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const key = clientKey(
      i % 2 === 0
        ? `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
        : `2001:db8:${(i & 0xffff).toString(16)}:${(i >> 16).toString(16)}::1`,
    );
    return { key, hash: xxh32(key.bytes) };
  });
}

/** Zipf-like (s = 1) draws over `pool`: a few heavy keys (NAT gateways) and a long tail. */
function zipf(pool: { key: ClientKey; hash: number }[], draws: number): { key: ClientKey; hash: number }[] {
  const weights = pool.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w / total));
  const next = random32(42);
  const random = () => next() / 4_294_967_296;
  return Array.from({ length: draws }, () => {
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return pool[lo]!;
  });
}

let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ["gc"] });

// The same loop without the call: reading the stream (random keys miss the cache) is not recordTraffic's cost.
let sink = 0;
function baseline(stream: { key: ClientKey; hash: number }[]): number {
  const perCall: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) {
      const { key, hash } = stream[i % stream.length]!;
      sink += hash ^ key.bytes[1]!;
    }
    if (batch > 1) perCall.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  return upperMedian(perCall);
}

function measure(name: string, stream: { key: ClientKey; hash: number }[]): void {
  const stats = createTrafficStats();
  let now = 1_800_000_000_000;
  const perCall: number[] = [];
  let gcsWhileRecording = 0;
  for (let batch = 0; batch < BATCHES; batch++) {
    const before = gcs;
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) {
      const { key, hash } = stream[i % stream.length]!;
      recordTraffic(stats, key, hash, i % 97 === 0 ? 502 : 200, (now += STEP_MS));
    }
    const ns = Number(process.hrtime.bigint() - started) / CALLS;
    if (batch > 1) {
      perCall.push(ns);
      gcsWhileRecording += gcs - before;
    }
  }
  const median = upperMedian(perCall);
  const loop = baseline(stream);
  const top = trafficSnapshot(stats, now).hot.keys[0];
  const share = (count: number | undefined) =>
    `${(((count ?? 0) / trafficSnapshot(stats, now).hot.requests) * 100).toFixed(1)} %`;
  console.log(
    `${name.padEnd(44)} ${(median - loop).toFixed(1).padStart(5)} ns/call ` +
      `(${median.toFixed(1)} minus ${loop.toFixed(1)} for the loop), ` +
      `GCs while recording ${(perCall.length * CALLS).toLocaleString("en")} calls: ${gcsWhileRecording}; ` +
      `hottest ${top?.key}: ${share(top?.guaranteed)}–${share(top?.count)} of requests`,
  );
}

const pool = keys(100_000);
console.log(
  `recordTraffic, Node ${process.version}, median of ${BATCHES - 2} batches of ${CALLS.toLocaleString("en")}`,
);
measure("20 keys, round robin (all held)", pool.slice(0, 20));
measure("Zipf over 100,000 keys (NAT gateways + tail)", zipf(pool, 1_000_003));
measure("every call a key not held (worst case)", pool);
if (sink === 0.5) console.log(sink);
