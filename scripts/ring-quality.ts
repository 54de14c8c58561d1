/**
 * `npm run bench:ring`: mapping quality of the ring schemes on one seeded client set (issue 5,
 * "Measure" item 2): peak/mean load, moves on removal, failure and addition against the ideal,
 * weighted balance, and whether the addresses of one IPv6 /64 stay together. Rendezvous hashing
 * (Thaler & Ravishankar 1998) is the reference: it is as balanced as sampling the clients allows.
 * A script, not a test: it prints progress and tables, writes ring-quality.md and .json (to bench/
 * or --out DIR), asserts nothing.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { clientKey, parseIp } from "../src/core/key/client-key.ts";
import { xxh32, xxh32String } from "../src/core/hash.ts";
import { buildRing, walkRing, type Ring, type RingMember } from "../src/core/ring/ring.ts";
import {
  buildSlotRing,
  freshLayout,
  ringFromLayout,
  updateLayout,
  type SlotLayout,
} from "../src/core/ring/slot-ring.ts";
import { BENCH_DIR, table, writeJson, writeReport } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string" },
    sizes: { type: "string" },
    seed: { type: "string", default: "20261122" },
    quick: { type: "boolean", default: false },
    out: { type: "string", default: BENCH_DIR },
  },
});
// --quick: 100,000 clients at 10 and 100 origins (seconds instead of a minute), for CI.
const CLIENTS = Number(args.clients ?? (args.quick ? "100000" : "1000000"));
const SIZES = (args.sizes ?? (args.quick ? "10,100" : "10,100,1000")).split(",").map(Number);
const SEED = Number(args.seed) >>> 0;
const VICTIM = 3; // `origin-3` is removed, failed; every size has it
const V6_PREFIXES = Math.min(10_000, Math.floor(CLIENTS / 2));
const ADDRESSES_PER_PREFIX = 4;
const WEIGHTS = [1, 1, 1, 1, 1, 2, 2, 2, 4, 4];
if (!(CLIENTS >= 1000) || SIZES.some((n) => !(n > VICTIM) || !Number.isInteger(n))) {
  throw new RangeError("--clients must be ≥ 1000 and every --sizes entry an integer > 3");
}

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);

// mulberry32: a small seeded PRNG, so every run sees the same clients.
let state = SEED;
function random32(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (t ^ (t >>> 14)) >>> 0;
}
const group = () => (random32() & 0xffff).toString(16);

// Clients alternate IPv4 (any address) and IPv6 (a random /64 in 2000::/3, random interface id),
// hashed exactly as the worker does: xxh32 of clientKey's bytes.
const hashes = new Uint32Array(CLIENTS);
const prefixes: string[] = [];
for (let i = 0; i < CLIENTS; i++) {
  let text: string;
  if (i % 2 === 0) {
    const a = random32();
    text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  } else {
    const prefix = `${(0x2000 | (random32() & 0x1fff)).toString(16)}:${group()}:${group()}:${group()}`;
    if (prefixes.length < V6_PREFIXES) prefixes.push(prefix);
    text = `${prefix}:${group()}:${group()}:${group()}:${group()}`;
  }
  hashes[i] = xxh32(clientKey(text).bytes);
}
// The /64 test: several addresses per prefix, hashed by our key and by the raw 16 address bytes.
const v6Ours = new Uint32Array(V6_PREFIXES * ADDRESSES_PER_PREFIX);
const v6Raw = new Uint32Array(V6_PREFIXES * ADDRESSES_PER_PREFIX);
for (let p = 0; p < V6_PREFIXES; p++) {
  for (let a = 0; a < ADDRESSES_PER_PREFIX; a++) {
    const text = `${prefixes[p]}:${group()}:${group()}:${group()}:${group()}`;
    v6Ours[p * ADDRESSES_PER_PREFIX + a] = xxh32(clientKey(text).bytes);
    v6Raw[p * ADDRESSES_PER_PREFIX + a] = xxh32(parseIp(text)!.bytes);
  }
}
log(`${CLIENTS.toLocaleString("en")} clients hashed (seed ${SEED}), ${V6_PREFIXES.toLocaleString("en")} /64s × 4`);

/** A built scheme: member ids, and the primary's index into them for a key hash. */
interface Mapper {
  readonly ids: readonly string[];
  primary(keyHash: number, eligible: ArrayLike<boolean>): number;
  /** The slot layout it was built from, for schemes that change a layout rather than rebuild. */
  readonly layout?: SlotLayout;
}

function ringMapper(ring: Ring, layout?: SlotLayout): Mapper {
  const out = new Uint32Array(1);
  return { ids: ring.ids, layout, primary: (h, eligible) => (walkRing(ring, h, eligible, out) === 1 ? out[0]! : -1) };
}

function layoutMapper(layout: SlotLayout): Mapper {
  return ringMapper(ringFromLayout(layout), layout);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Highest random weight: each (key, member) pair draws a score; the highest eligible score wins. */
function rendezvousMapper(members: readonly RingMember[]): Mapper {
  const ids = members.map((m) => m.id);
  // Two member hashes, mixed in two stages, so that k ^ a = k' ^ a' gives unrelated scores.
  const a = Uint32Array.from(ids, (id) => xxh32String(id));
  const b = Uint32Array.from(ids, (id) => xxh32String(id, 0x9e3779b1));
  const w = Float64Array.from(members, (m) => m.weight);
  const equal = members.every((m) => m.weight === members[0]!.weight);
  const n = ids.length;
  const primary = (h: number, eligible: ArrayLike<boolean>): number => {
    let best = -1;
    let bestScore = -Infinity;
    for (let m = 0; m < n; m++) {
      if (!eligible[m]) continue;
      const s = fmix32(fmix32(h ^ a[m]!) ^ b[m]!) >>> 0;
      // Weighted HRW (Schindelhauer & Schomaker 2005): -w / ln(u), u uniform in (0, 1).
      const score = equal ? s : -w[m]! / Math.log((s + 0.5) / 4_294_967_296);
      if (score > bestScore) {
        bestScore = score;
        best = m;
      }
    }
    return best;
  };
  return { ids, primary };
}

interface Scheme {
  readonly name: string;
  build(members: readonly RingMember[]): Mapper;
  /** A permanent membership change from `base`; schemes without it are rebuilt from scratch. */
  change?(base: Mapper, members: readonly RingMember[]): Mapper;
}
const schemes: Scheme[] = [
  { name: "ring-160", build: (members) => ringMapper(buildRing(members, 160)) },
  { name: "maglev", build: (members) => ringMapper(buildSlotRing(members)) },
  {
    name: "slot",
    build: (members) => layoutMapper(freshLayout(members)),
    change: (base, members) => layoutMapper(updateLayout(base.layout!, members).layout),
  },
  { name: "rendezvous", build: rendezvousMapper },
];
const notes: string[] = [];
const changed = (scheme: Scheme, base: Mapper, members: readonly RingMember[]) =>
  scheme.change ? scheme.change(base, members) : scheme.build(members);

const originNumber = (id: string) => Number(id.slice("origin-".length));
const origins = (n: number, weight = (_: number) => 1): RingMember[] =>
  Array.from({ length: n }, (_, i) => ({ id: `origin-${i}`, weight: weight(i) }));

/** Primary origin number (not member index: indices shift when membership changes) per key. */
function assign(mapper: Mapper, keys: Uint32Array, eligible?: readonly boolean[]): Int32Array {
  const allowed = eligible ?? mapper.ids.map(() => true);
  const number = Int32Array.from(mapper.ids, originNumber);
  const result = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) result[i] = number[mapper.primary(keys[i]!, allowed)]!;
  return result;
}

function countMoved(before: Int32Array, after: Int32Array): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
  return moved;
}

interface Result {
  peak: number;
  min: number;
  removal: { moved: number; ideal: number; peak: number; secondMove: number };
  failure: { moved: number; ideal: number; collateral: number; spread: number };
  /** minimum: the clients the newcomer ends up with, which any scheme must move to it. */
  addition: { moved: number; ideal: number; minimum: number };
  v6: { ours: number; raw: number };
}
const results = new Map<string, Map<number, Result>>(schemes.map((s) => [s.name, new Map()]));

/** Share of /64s whose addresses all have one primary. */
function wholeShare(mapper: Mapper, keys: Uint32Array): number {
  const primaries = assign(mapper, keys);
  let whole = 0;
  for (let p = 0; p < primaries.length; p += ADDRESSES_PER_PREFIX) {
    let same = true;
    for (let a = 1; a < ADDRESSES_PER_PREFIX; a++) same &&= primaries[p + a] === primaries[p];
    if (same) whole++;
  }
  return whole / (primaries.length / ADDRESSES_PER_PREFIX);
}

for (const n of SIZES) {
  for (const scheme of schemes) {
    const c = CLIENTS;
    const members = origins(n);
    const base = scheme.build(members);
    const before = assign(base, hashes);
    const load = new Float64Array(n);
    for (const p of before) load[p]!++;
    const victimShare = load[VICTIM]! / c;

    const removed = assign(
      changed(
        scheme,
        base,
        members.filter((m) => originNumber(m.id) !== VICTIM),
      ),
      hashes,
    );
    const failed = assign(
      base,
      hashes,
      base.ids.map((id) => originNumber(id) !== VICTIM),
    );
    let collateral = 0;
    const heirs = new Set<number>();
    for (let i = 0; i < c; i++) {
      if (before[i] === VICTIM) heirs.add(failed[i]!);
      else if (failed[i] !== before[i]) collateral++;
    }
    const added = assign(changed(scheme, base, origins(n + 1)), hashes);
    // Drain, then remove: the victim's clients already moved once (to their failover heirs);
    // those whose owner after the removal differs move a second time.
    let secondMove = 0;
    let victims = 0;
    const removedLoad = new Float64Array(n);
    for (let i = 0; i < c; i++) {
      removedLoad[removed[i]!]!++;
      if (before[i] !== VICTIM) continue;
      victims++;
      if (failed[i] !== removed[i]) secondMove++;
    }

    const result: Result = {
      peak: Math.max(...load) / (c / n),
      min: Math.min(...load) / (c / n),
      removal: {
        moved: countMoved(before, removed) / c,
        ideal: victimShare,
        peak: Math.max(...removedLoad) / (c / (n - 1)),
        secondMove: secondMove / victims,
      },
      failure: { moved: countMoved(before, failed) / c, ideal: victimShare, collateral, spread: heirs.size },
      addition: {
        moved: countMoved(before, added) / c,
        ideal: 1 / (n + 1),
        minimum: added.filter((p) => p === n).length / c,
      },
      v6: { ours: wholeShare(base, v6Ours), raw: wholeShare(base, v6Raw) },
    };
    results.get(scheme.name)!.set(n, result);
    log(
      `N=${n} ${scheme.name}: ` +
        `peak/mean ${result.peak.toFixed(4)}, removal moved ${pct(result.removal.moved)} ` +
        `(ideal ${pct(victimShare)}), failure collateral ${collateral}, addition moved ${pct(result.addition.moved)}`,
    );
  }
}

// Weighted: load share over weight share, per origin.
const weighted = new Map<string, { deviation: number; worst: string }>();
const weightSum = WEIGHTS.reduce((x, y) => x + y, 0);
for (const scheme of schemes) {
  // Changed from equal weights where the scheme changes layouts: what an operator's reweighting gives.
  const weightedMembers = origins(WEIGHTS.length, (i) => WEIGHTS[i]!);
  const primaries = assign(
    scheme.change
      ? scheme.change(scheme.build(origins(WEIGHTS.length)), weightedMembers)
      : scheme.build(weightedMembers),
    hashes,
  );
  const load = new Float64Array(WEIGHTS.length);
  for (const p of primaries) load[p]!++;
  let deviation = 0;
  let worst = "";
  for (let i = 0; i < WEIGHTS.length; i++) {
    const ratio = load[i]! / CLIENTS / (WEIGHTS[i]! / weightSum);
    if (Math.abs(ratio - 1) >= deviation) {
      deviation = Math.abs(ratio - 1);
      worst = `origin-${i} (weight ${WEIGHTS[i]}, ratio ${ratio.toFixed(4)})`;
    }
  }
  weighted.set(scheme.name, { deviation, worst });
  log(`weighted ${scheme.name}: max |ratio − 1| ${deviation.toFixed(4)}, worst ${worst}`);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(3)} %`;
}
function excess({ moved, ideal }: { moved: number; ideal: number }): string {
  const delta = moved - ideal;
  return `${delta >= 0 ? "+" : "−"}${Math.abs(delta * 100).toFixed(3)} pp, ×${(moved / ideal).toFixed(2)}`;
}
function perSize(cell: (r: Result, n: number) => string): string {
  const rows = schemes.map((s) => [s.name, ...SIZES.map((n) => cell(results.get(s.name)!.get(n)!, n))]);
  return table(["scheme", ...SIZES.map((n) => `N = ${n.toLocaleString("en")}`)], rows);
}

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const command = ["npx node scripts/ring-quality.ts", ...process.argv.slice(2)].join(" ");
const goal = (text: string, met: boolean, detail: string) => ({ goal: text, met, detail });
const ours = results.get("slot")!;
const exact = (r: { moved: number; ideal: number }) => r.moved <= r.ideal * 1.01 + 1 / CLIENTS;
const goals = [
  // The balance goals are stated for 1M clients: fewer clients cannot show 1.02 (sampling noise).
  ...[
    [10, 1.02],
    [100, 1.04],
  ]
    .filter(([n]) => ours.has(n!) && CLIENTS >= 1_000_000)
    .map(([n, limit]) =>
      goal(`peak/mean ≤ ${limit} at ${n} origins`, ours.get(n!)!.peak <= limit!, ours.get(n!)!.peak.toFixed(4)),
    ),
  ...SIZES.map((n) =>
    goal(
      `removal at ${n} origins moves ≤ 1.01 × the removed origin's share`,
      exact(ours.get(n)!.removal),
      `${pct(ours.get(n)!.removal.moved)} vs ideal ${pct(ours.get(n)!.removal.ideal)}`,
    ),
  ),
  ...SIZES.map((n) =>
    goal(
      `addition at ${n} origins moves ≤ 1.01 × the clients the newcomer takes`,
      exact({ moved: ours.get(n)!.addition.moved, ideal: ours.get(n)!.addition.minimum }),
      `${pct(ours.get(n)!.addition.moved)} vs ${pct(ours.get(n)!.addition.minimum)} taken (1/(N+1) = ${pct(ours.get(n)!.addition.ideal)})`,
    ),
  ),
  ...SIZES.map((n) =>
    goal(
      `failure at ${n} origins: zero collateral moves`,
      ours.get(n)!.failure.collateral === 0,
      `${ours.get(n)!.failure.collateral} collateral`,
    ),
  ),
  ...SIZES.map((n) => goal(`every /64 whole at ${n} origins`, ours.get(n)!.v6.ours === 1, pct(ours.get(n)!.v6.ours))),
];

const markdown = `# Ring mapping quality

Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}. Clients: ${CLIENTS.toLocaleString("en")} (half IPv4 addresses, half IPv6 /64s, keyed by \`clientKey\` and hashed by \`xxh32\` as the worker does), seed ${SEED}. Command: \`${command}\`. Equal-weight origins \`origin-0\` … \`origin-<N−1>\`; \`origin-${VICTIM}\` is the one removed and failed. Schemes: \`ring-160\` = \`buildRing(members, 160)\` (random virtual nodes, the first ring); \`maglev\` = \`buildSlotRing(members)\` (Maglev's fill, refilled from scratch on every change); \`slot\` (**the worker's**) = the same fill at first, then changed by \`updateLayout\` as the Durable Object does on every membership or weight change; \`rendezvous\` = highest-random-weight hashing, the reference for what sampling this many clients allows.

## Load: peak/mean · min/mean

${perSize((r) => `${r.peak.toFixed(4)} · ${r.min.toFixed(4)}`)}

Goal (issue 5): peak/mean ≤ 1.02 at 10 origins and ≤ 1.04 at 100. Quoted from issue 5 for comparison (same machine, not
measured by this script), at 10 / 100 origins: HAProxy 2.6 default weight 1.34 / 1.43, HAProxy \`weight 100\` 1.021 /
1.041, nginx 1.11 / 1.20, ketama with 160 points 1.11 / 1.17.

## Removal of \`origin-${VICTIM}\` (a permanent change): moved share (ideal = its share; extra = moved − ideal)

${perSize((r) => `${pct(r.removal.moved)} (ideal ${pct(r.removal.ideal)}, ${excess(r.removal)})`)}

Goal (issue 5): a permanent change moves at most 1 % more than the ideal, read strictly here: moved ≤ 1.01 × ideal (the
× figure). The worker's \`slot\` scheme moves exactly the ideal; \`maglev\` (refilling) does not.

### After the removal: peak/mean over the N − 1 left · share of the removed origin's clients that move a second time when it is drained first, then removed

${perSize((r) => `${r.removal.peak.toFixed(4)} · ${pct(r.removal.secondMove)}`)}

While an origin is drained (or down) its clients go to their walk successors; removing it then hands its slots to the
same successors unless that would put one above its new share. \`ring-160\` and \`rendezvous\` need no such cap (their
heirs are the successors by construction) but are less balanced or cost O(N) per lookup.

## Failure of \`origin-${VICTIM}\` (skipped, not rebuilt): moved share · collateral moves · origins its clients spread over

${perSize((r) => `${pct(r.failure.moved)} · ${r.failure.collateral} · ${r.failure.spread}`)}

Collateral = clients that moved but were not on the failed origin; it must be 0.

## Addition of \`origin-<N>\`: moved share (ideal = 1/(N+1); extra = moved − ideal) · share the newcomer took

${perSize((r) => `${pct(r.addition.moved)} (ideal ${pct(r.addition.ideal)}, ${excess(r.addition)}) · ${pct(r.addition.minimum)}`)}

Moving more than the newcomer took is collateral: clients moved between old origins.

## Weighted: 10 origins, weights ${WEIGHTS.join(", ")}

${table(
  ["scheme", "max \\|load share / weight share − 1\\|", "worst origin"],
  schemes.map((s) => [s.name, weighted.get(s.name)!.deviation.toFixed(4), weighted.get(s.name)!.worst]),
)}

## IPv6: share of /64s whose ${ADDRESSES_PER_PREFIX} addresses all land on one origin (${V6_PREFIXES.toLocaleString("en")} /64s)

${table(
  ["key", ...SIZES.map((n) => `N = ${n.toLocaleString("en")}`)],
  [
    ...schemes.flatMap((s) => [
      [`${s.name}, key = /64 (ours)`, ...SIZES.map((n) => pct(results.get(s.name)!.get(n)!.v6.ours))],
      [`${s.name}, per address (raw 16 bytes)`, ...SIZES.map((n) => pct(results.get(s.name)!.get(n)!.v6.raw))],
    ]),
    ["chance, 1/N³", ...SIZES.map((n) => pct(1 / n ** (ADDRESSES_PER_PREFIX - 1)))],
  ],
)}

The per-address rows are what a proxy hashing the raw header does (HAProxy \`balance hdr(CF-Connecting-IP)\`, nginx \`hash $http_cf_connecting_ip\`): a /64's addresses scatter.
## Goals (the worker's \`slot\` scheme)

${table(
  ["goal", "met", "measured"],
  goals.map((g) => [g.goal, g.met ? "met" : "**missed**", g.detail]),
)}
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}`;

await writeReport("ring-quality.md", markdown, args.out);
await writeJson(
  "ring-quality.json",
  {
    machine: `${cpu}, ${os.cpus().length} cores, Node ${process.version}`,
    command,
    quick: args.quick,
    clients: CLIENTS,
    seed: SEED,
    results: schemes.flatMap((scheme) =>
      SIZES.map((n) => ({ scheme: scheme.name, n, ...results.get(scheme.name)!.get(n)! })),
    ),
    weighted: schemes.map((scheme) => ({ scheme: scheme.name, ...weighted.get(scheme.name)! })),
    goals,
  },
  args.out,
);
