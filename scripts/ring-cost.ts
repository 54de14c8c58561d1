/**
 * `npm run ring-cost`: what the pure core costs per request and per ring, at 10, 100 and 1,000
 * origins (issue 5, "Measure" item 1): median ns for one lookup (client key parse + xxHash32 + ring
 * walk for 3 origins), ring build time, ring memory (its typed arrays) and what one routing table
 * really retains on the heap. A script, not a test: it prints figures and asserts nothing; it writes
 * ring-cost.json (figures and goal verdicts) for `npm run bench`.
 *
 *   node scripts/ring-cost.ts [--quick] [--out DIR]
 */
import os from "node:os";
import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { clientKey } from "../src/core/key/client-key.ts";
import { INTEGER_SETTINGS } from "../src/core/config/settings.ts";
import { xxh32 } from "../src/core/hash.ts";
import { buildRoutingTable, pickOrigins, routingView, type RoutingTable } from "../src/core/routing/routing-table.ts";
import { UNKNOWN_HEALTH, type OriginRecord, type Region } from "../src/core/model.ts";
import { orderPools, type ClientLocation } from "../src/core/routing/steering.ts";
import { poolOrder } from "../src/worker/steering-cache.ts";
import { BENCH_DIR, table, writeJson } from "./report.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, out: { type: "string", default: BENCH_DIR } },
});
const QUICK = args.quick;
const SIZES = [10, 100, 1000];
const BUILDS = QUICK ? 5 : 15;
const ROUNDS = QUICK ? 40 : 200; // lookup batches per size
const BLOCK = 5; // batches per size in a row
const WARM_BATCHES = 1; // unmeasured at the start of each block
const RETAINED = QUICK ? 3 : 5; // tables held at once to weigh one
const SLOTS_PER_ORIGIN = INTEGER_SETTINGS.find((s) => s.name === "RING_SLOTS_PER_ORIGIN")!.fallback;
const GOAL = { lookupNs: 250, flatRatio: 1.3, buildMs: 20, memoryMb: 4 };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

// Clients: half IPv4, half IPv6, as header text (the parse is part of the cost).
const clients = Array.from({ length: 4096 }, (_, i) =>
  i % 2 === 0
    ? `${((i * 7919) % 223) + 1}.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`
    : `2001:db8:${((i * 7919) % 65536).toString(16)}:${(i % 65536).toString(16)}::${(i % 97).toString(16)}`,
);

const originsOf = (n: number): OriginRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `origin-${i}`,
    url: `https://o${i}.example`,
    weight: 1,
    region: null,
    state: "active",
    drainStartedAt: null,
    health: UNKNOWN_HEALTH,
  }));

const cpu = `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`;
console.log(`machine: ${cpu}`);
console.log(`${QUICK ? "quick: " : ""}${BUILDS} builds and ${ROUNDS} lookup batches of ${clients.length} per size`);

interface Row {
  origins: number;
  lookupNs: number;
  /** xxHash32 + walk of an already parsed key. */
  hashWalkNs: number;
  buildMs: number;
  points: number;
  ringKb: number;
  retainedKb: number;
}
const rows: Row[] = [];
const tables = new Map<number, RoutingTable>();
for (const n of SIZES) {
  const origins = originsOf(n);
  const builds: number[] = [];
  let built = buildRoutingTable({ epoch: 1, origins }, SLOTS_PER_ORIGIN);
  for (let i = 0; i < BUILDS; i++) {
    const start = process.hrtime.bigint();
    built = buildRoutingTable({ epoch: 1, origins }, SLOTS_PER_ORIGIN);
    builds.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  tables.set(n, built);
  // Retained memory: several fresh tables held at once, after full collections.
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve)); // lets freed ArrayBuffers be released
    }
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = await heap();
  const held = Array.from({ length: RETAINED }, () => buildRoutingTable({ epoch: 1, origins }, SLOTS_PER_ORIGIN));
  const retainedKb = ((await heap()) - before) / RETAINED / 1024;
  held.length = 0;
  const { points, owners, index } = built.ring;
  rows.push({
    origins: n,
    lookupNs: NaN,
    hashWalkNs: NaN,
    buildMs: median(builds),
    points: points.length,
    ringKb: (points.byteLength + owners.byteLength + index.byteLength) / 1024,
    retainedKb,
  });
  console.log(`${n} origins: build ${median(builds).toFixed(2)} ms, retained ${retainedKb.toFixed(0)} KB`);
}

// Lookups: blocks of batches, the sizes taking turns block by block, so a noisy neighbour hits every
// size alike while each block runs warm on one table (as an isolate does: it routes on one table).
const out = new Uint32Array(3);
let sink = 0;
const batches = new Map<number, number[]>(SIZES.map((n) => [n, []]));
// The same split in two, to show where the time goes: the key parse alone, and hash + walk of parsed keys.
const keys = clients.map((ip) => clientKey(ip).bytes);
const parseBatches: number[] = [];
const walkBatches = new Map<number, number[]>(SIZES.map((n) => [n, []]));
const views = new Map(
  SIZES.map((n) => [n, routingView(tables.get(n)!, { slowStartMs: 30_000, drainMs: 60_000, panicPercent: 50 }, 0)]),
);
for (let block = 0; block < ROUNDS / BLOCK; block++) {
  for (const n of SIZES) {
    const [t, view] = [tables.get(n)!, views.get(n)!];
    for (let b = -WARM_BATCHES; b < BLOCK; b++) {
      const start = process.hrtime.bigint();
      for (const ip of clients) sink += pickOrigins(t, view, xxh32(clientKey(ip).bytes), out) + out[0]!;
      if (b >= 0) batches.get(n)!.push(Number(process.hrtime.bigint() - start) / clients.length);
    }
    for (let b = -WARM_BATCHES; b < BLOCK; b++) {
      const start = process.hrtime.bigint();
      for (const key of keys) sink += pickOrigins(t, view, xxh32(key), out) + out[0]!;
      if (b >= 0) walkBatches.get(n)!.push(Number(process.hrtime.bigint() - start) / clients.length);
    }
  }
  for (let b = -WARM_BATCHES; b < BLOCK; b++) {
    const start = process.hrtime.bigint();
    for (const ip of clients) sink += clientKey(ip).bytes.length;
    if (b >= 0) parseBatches.push(Number(process.hrtime.bigint() - start) / clients.length);
  }
}
for (const row of rows) {
  row.lookupNs = median(batches.get(row.origins)!);
  row.hashWalkNs = median(walkBatches.get(row.origins)!);
}
const parseNs = median(parseBatches);

// Steering (issue 7): the same 100 origins as 10 regional pools of 10, requests from 256 places
// (a Cloudflare location sees a few hundred cities), half of them mapped by country. Per request:
// the pool order (cached per place in the isolate, src/worker/steering-cache.ts) + the lookup
// walking the home pool; and, for the record, one uncached orderPools (a place's first request).
const REGION_COUNT = 10;
const regions: Region[] = Array.from({ length: REGION_COUNT }, (_, r) => ({
  id: `r${r}`,
  latitude: -60 + r * 13,
  longitude: -170 + r * 35,
  countries: [String.fromCharCode(65 + r) + "A"],
  continents: [],
}));
const regional = buildRoutingTable(
  {
    epoch: 1,
    origins: originsOf(100).map((o, i) => ({ ...o, region: `r${i % REGION_COUNT}` })),
    regions,
    defaultRegion: null,
  },
  SLOTS_PER_ORIGIN,
);
const places: ClientLocation[] = Array.from({ length: 256 }, (_, i) => ({
  country: i % 2 === 0 ? String.fromCharCode(65 + (i % REGION_COUNT)) + "A" : "ZZ",
  continent: "EU",
  latitude: String(((i * 37) % 170) - 85),
  longitude: String(((i * 71) % 358) - 179),
}));
const regionalView = routingView(regional, { slowStartMs: 30_000, drainMs: 60_000, panicPercent: 50 }, 0);
const steerBatches: number[] = [];
const flatBatches: number[] = [];
const orderBatches: number[] = [];
const [flat, flatView] = [tables.get(100)!, views.get(100)!];
for (let block = 0; block < ROUNDS / BLOCK; block++) {
  for (let b = -WARM_BATCHES; b < BLOCK; b++) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < clients.length; i++) {
      const order = poolOrder(regional, places[i & 255]);
      sink += pickOrigins(regional, regionalView, xxh32(clientKey(clients[i]!).bytes), out, order) + out[0]!;
    }
    if (b >= 0) steerBatches.push(Number(process.hrtime.bigint() - start) / clients.length);
    start = process.hrtime.bigint();
    for (let i = 0; i < clients.length; i++) {
      sink += pickOrigins(flat, flatView, xxh32(clientKey(clients[i]!).bytes), out) + out[0]!;
    }
    if (b >= 0) flatBatches.push(Number(process.hrtime.bigint() - start) / clients.length);
  }
  const start = process.hrtime.bigint();
  for (const place of places) sink += orderPools(regions, place, null).order.length;
  orderBatches.push(Number(process.hrtime.bigint() - start) / places.length);
}
const steering = {
  regions: REGION_COUNT,
  originsPerRegion: 100 / REGION_COUNT,
  places: places.length,
  lookupNs: median(steerBatches),
  onePoolNs: median(flatBatches),
  uncachedOrderNs: median(orderBatches),
};
console.log(
  `steering: ${steering.lookupNs.toFixed(0)} ns per lookup with ${REGION_COUNT} regional pools of 10 ` +
    `(one pool of 100 in the same batches: ${steering.onePoolNs.toFixed(0)} ns); an uncached pool order ` +
    `${steering.uncachedOrderNs.toFixed(0)} ns`,
);
if (sink === -1) console.log(""); // keeps the loop from being optimized away

const head = [
  "origins",
  "lookup ns (median)",
  "of which hash + walk ns",
  "build ms (median)",
  "ring slots",
  "ring arrays KB",
  "retained KB",
];
const figures = rows.map((r) => [
  r.origins.toLocaleString("en"),
  r.lookupNs.toFixed(0),
  r.hashWalkNs.toFixed(0),
  r.buildMs.toFixed(2),
  r.points.toLocaleString("en"),
  r.ringKb.toFixed(0),
  r.retainedKb.toFixed(0),
]);
console.log(`\n${table(head, figures)}\n`);

const at = (n: number) => rows.find((r) => r.origins === n)!;
const lookups = rows.map((r) => r.lookupNs);
const quartiles = (n: number) => {
  const sorted = [...batches.get(n)!].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.floor(p * (sorted.length - 1))]!.toFixed(0);
  return `${q(0.25)}–${q(0.75)}`;
};
const ratio = Math.max(...lookups) / Math.min(...lookups);
const heaviest = Math.max(at(1000).ringKb, at(1000).retainedKb) / 1024;
const goals = [
  {
    goal: `lookup ≤ ${GOAL.lookupNs} ns median at 100 origins`,
    met: at(100).lookupNs <= GOAL.lookupNs,
    detail:
      `${at(100).lookupNs.toFixed(0)} ns (key parse + xxHash32 + bucket index + walk for 3 origins; ` +
      `quartiles of the batches ${quartiles(100)} ns; the key parse alone ${parseNs.toFixed(0)} ns, hash + walk ` +
      `${at(100).hashWalkNs.toFixed(0)} ns; this shared machine swings about 2× between runs)`,
  },
  {
    goal: `lookup flat as the ring grows (slowest ≤ ${GOAL.flatRatio}× fastest, 10 → 1,000 origins)`,
    met: ratio <= GOAL.flatRatio,
    detail: `${lookups.map((v) => v.toFixed(0)).join(" / ")} ns at ${SIZES.join(" / ")} origins: ×${ratio.toFixed(2)}`,
  },
  {
    goal: `1,000-origin ring built in ≤ ${GOAL.buildMs} ms`,
    met: at(1000).buildMs <= GOAL.buildMs,
    detail: `${at(1000).buildMs.toFixed(1)} ms median of ${BUILDS}`,
  },
  {
    goal: `1,000-origin ring held in ≤ ${GOAL.memoryMb} MB`,
    met: heaviest <= GOAL.memoryMb,
    detail: `${(at(1000).ringKb / 1024).toFixed(2)} MB of ring arrays, ${(at(1000).retainedKb / 1024).toFixed(2)} MB retained per routing table`,
  },
];
for (const g of goals) console.log(`${g.met ? "met   " : "MISSED"} ${g.goal}: ${g.detail}`);

await writeJson(
  "ring-cost.json",
  {
    machine: cpu,
    command: ["node scripts/ring-cost.ts", ...process.argv.slice(2)].join(" "),
    quick: QUICK,
    goals,
    slotsPerOrigin: SLOTS_PER_ORIGIN,
    parseNs,
    rows,
    steering,
    tables: [
      {
        title: `Cost per lookup and per ring (${clients.length.toLocaleString("en")} clients, half IPv4 and half IPv6, as header text)`,
        head,
        rows: figures,
      },
      {
        title:
          "Steering (issue 7): the 100 origins as 10 regional pools of 10, requests from 256 places (half mapped by country)",
        head: ["lookup ns, 10 pools (median)", "lookup ns, 1 pool, same batches", "added ns", "uncached pool order ns"],
        rows: [
          [
            steering.lookupNs.toFixed(0),
            steering.onePoolNs.toFixed(0),
            (steering.lookupNs - steering.onePoolNs).toFixed(0),
            steering.uncachedOrderNs.toFixed(0),
          ],
        ],
      },
    ],
  },
  args.out,
);
console.log(`wrote ${args.out.replace(/\/$/, "")}/ring-cost.json`);
