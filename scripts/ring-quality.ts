/**
 * `npm run bench:ring`: mapping quality of the ring schemes on one seeded client set (issue 5,
 * "Measure" item 2): peak/mean load, moves on removal, failure and addition against the ideal,
 * weighted balance, and whether the addresses of one IPv6 /64 stay together. Rendezvous hashing
 * (Thaler & Ravishankar 1998) is the reference: it is as balanced as sampling the clients allows.
 * A script, not a test: it prints progress and tables, writes ring-quality.md and .json (to bench/
 * or --out DIR), asserts nothing.
 */
import { parseArgs } from "node:util";
import { log } from "./lib/log.ts";
import { writePartResult } from "./lib/part-result.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { makeClients } from "./ring-quality/clients.ts";
import { ADDRESSES_PER_PREFIX, measure, VICTIM, weightedBalance, type Result } from "./ring-quality/measure.ts";
import { ringGoals, ringQualityReport } from "./ring-quality/report.ts";
import { ringQualityResult } from "./ring-quality/result.ts";
import { SCHEMES } from "./ring-quality/schemes.ts";

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
const V6_PREFIXES = Math.min(10_000, Math.floor(CLIENTS / 2));
if (!(CLIENTS >= 1000) || SIZES.some((n) => !(n > VICTIM) || !Number.isInteger(n))) {
  throw new RangeError("--clients must be ≥ 1000 and every --sizes entry an integer > 3");
}

const clients = makeClients(CLIENTS, SEED, V6_PREFIXES, ADDRESSES_PER_PREFIX);
log(`${CLIENTS.toLocaleString("en")} clients hashed (seed ${SEED}), ${V6_PREFIXES.toLocaleString("en")} /64s × 4`);

const results = new Map<string, Map<number, Result>>(SCHEMES.map((s) => [s.name, new Map()]));
for (const n of SIZES) {
  for (const scheme of SCHEMES) results.get(scheme.name)!.set(n, measure(scheme, n, clients));
}
const weighted = new Map(SCHEMES.map((scheme) => [scheme.name, weightedBalance(scheme, clients.hashes)]));

const run = {
  command: ["npx node scripts/ring-quality.ts", ...process.argv.slice(2)].join(" "),
  clients: CLIENTS,
  seed: SEED,
  sizes: SIZES,
  v6Prefixes: V6_PREFIXES,
  results,
  weighted,
};
const goals = ringGoals(run);
await writeReport("ring-quality.md", ringQualityReport(run, goals), args.out);
await writePartResult("ring-quality.json", ringQualityResult(run, args.quick, goals), args.out);
