/**
 * `npm run ring-cost`: what the pure core costs per request and per ring, at 10, 100 and 1,000
 * origins: median ns for one lookup (client key parse + xxHash32 + ring walk for 3 origins), ring
 * build time and ring memory. A script, not a test: it prints figures and asserts nothing.
 */
import os from "node:os";
import { clientKey } from "../src/core/client-key.ts";
import { xxh32 } from "../src/core/hash.ts";
import {
  buildRoutingTable,
  pickOrigins,
  routingView,
  UNKNOWN_HEALTH,
  type OriginRecord,
} from "../src/core/routing-table.ts";

const SLOTS_PER_ORIGIN = 100; // RING_SLOTS_PER_ORIGIN default
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// Clients: half IPv4, half IPv6, as header text (the parse is part of the cost).
const clients = Array.from({ length: 4096 }, (_, i) =>
  i % 2 === 0
    ? `${((i * 7919) % 223) + 1}.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`
    : `2001:db8:${((i * 7919) % 65536).toString(16)}:${(i % 65536).toString(16)}::${(i % 97).toString(16)}`,
);

console.log(`machine: ${os.cpus()[0]?.model ?? "unknown"}, ${os.cpus().length} cores, node ${process.version}`);
console.log("origins | lookup ns (median) | build ms (median) | ring points | ring memory KB");
for (const n of [10, 100, 1000]) {
  const origins: OriginRecord[] = Array.from({ length: n }, (_, i) => ({
    id: `origin-${i}`,
    url: `https://o${i}.example`,
    weight: 1,
    region: null,
    state: "active",
    drainStartedAt: null,
    health: UNKNOWN_HEALTH,
  }));
  const builds: number[] = [];
  let table = buildRoutingTable({ epoch: 1, origins }, SLOTS_PER_ORIGIN);
  for (let i = 0; i < 15; i++) {
    const start = process.hrtime.bigint();
    table = buildRoutingTable({ epoch: 1, origins }, SLOTS_PER_ORIGIN);
    builds.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const view = routingView(table, { slowStartMs: 30_000, drainMs: 60_000, panicPercent: 50 }, Date.now());
  const out = new Uint32Array(3);
  let sink = 0;
  const batches: number[] = [];
  for (let batch = 0; batch < 200; batch++) {
    const start = process.hrtime.bigint();
    for (const ip of clients) sink += pickOrigins(table, view, xxh32(clientKey(ip).bytes), out) + out[0]!;
    batches.push(Number(process.hrtime.bigint() - start) / clients.length);
  }
  const { points, owners, index } = table.ring;
  const memoryKb = (points.byteLength + owners.byteLength + index.byteLength) / 1024;
  console.log(
    `${String(n).padStart(7)} | ${median(batches).toFixed(0).padStart(18)} | ${median(builds).toFixed(2).padStart(17)} | ` +
      `${String(table.ring.points.length).padStart(11)} | ${memoryKb.toFixed(0).padStart(14)}` +
      (sink === -1 ? " " : ""),
  );
}
