/**
 * `npm run bench:proxies`: mapping quality through the real proxies (issue 5, "Measure" item 2,
 * second bullet). One seeded set of IPv4 clients goes through our balancer (the dist/ bundle in
 * workerd via Miniflare), HAProxy 2.6 (`balance hdr(CF-Connecting-IP)` + `hash-type consistent`,
 * default weight and `weight 100`) and nginx 1.22 (`hash $http_cf_connecting_ip consistent`), all
 * in front of the same 10 loopback origins; then two cohesion sets go through each (one address
 * spelled several ways; several addresses of one IPv6 /64); then origin o3 is stopped and every
 * client is sent again. Prints progress and tables, writes proxy-quality.md and proxy-quality.json
 * (to bench/ or `--out DIR`), asserts nothing.
 *
 *   npx node scripts/proxy-quality.ts [--quick] [--out DIR] [--clients N] [--cohesion N] [--seed N] [--concurrency N]
 */
import { parseArgs } from "node:util";
import { startBalancer } from "../test/e2e/harness.ts";
import { cleanup, installExitHandlers, onCleanup } from "./lib/cleanup.ts";
import { startHaproxy } from "./lib/haproxy.ts";
import { sweep } from "./lib/http-load.ts";
import { log, now } from "./lib/log.ts";
import { startNginx } from "./lib/nginx.ts";
import { writePartResult } from "./lib/part-result.ts";
import { ensureInstalled } from "./lib/proxy-process.ts";
import { ipv4Clients } from "./lib/random.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { buildWorker } from "./lib/wrangler.ts";
import { cohesionSets } from "./proxy-quality/cohesion.ts";
import { proxyFigures, samplingFloor, type Sweeps } from "./proxy-quality/figures.ts";
import { proxyGoals, proxyReport } from "./proxy-quality/report.ts";
import { proxyQualityResult } from "./proxy-quality/result.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: BENCH_DIR },
    clients: { type: "string" },
    cohesion: { type: "string" },
    seed: { type: "string", default: "20261122" },
    concurrency: { type: "string", default: "32" },
  },
});
const QUICK = args.quick;
const CLIENTS = Number(args.clients ?? (QUICK ? 2_000 : 20_000));
/** Addresses per cohesion set (IPv6 addresses, IPv4 addresses, /64s). */
const COHESION = Number(args.cohesion ?? (QUICK ? 250 : 1_000));
const SEED = Number(args.seed) >>> 0;
const CONCURRENCY = Number(args.concurrency);
const IDS = Array.from({ length: 10 }, (_, i) => `o${i}`);
const VICTIM = "o3";
if (!(CLIENTS >= 100) || !(COHESION >= 10) || !(CONCURRENCY >= 1))
  throw new RangeError("--clients must be ≥ 100, --cohesion ≥ 10, --concurrency ≥ 1");

installExitHandlers();
const clients = ipv4Clients(CLIENTS, SEED);
const sets = cohesionSets(SEED, COHESION);
const cohesionAddresses = sets.flatMap((set) => set.groups.flat());

interface Proxy {
  readonly name: string;
  readonly url: URL;
  before?: (string | null)[];
  cohesion?: (string | null)[];
  after?: (string | null)[];
}
const proxies: Proxy[] = [];
const notes: string[] = [];

try {
  buildWorker();
  const balancer = await startBalancer(IDS, { HEALTH_INTERVAL_MS: "0", DEBUG_HEADERS: "true" });
  onCleanup(() => balancer.close());
  const origins = balancer.origins.map((o) => ({ id: o.id, port: o.port }));
  log(
    `origins ${IDS.join(", ")} on 127.0.0.1:${origins.map((o) => o.port).join(", ")}; balancer at ${balancer.url.href}`,
  );
  proxies.push({ name: "ours (workerd)", url: balancer.url });
  if (ensureInstalled("haproxy", "haproxy")) {
    proxies.push({ name: "HAProxy, weight 1 (default)", url: (await startHaproxy({ origins })).url });
    proxies.push({ name: "HAProxy, weight 100", url: (await startHaproxy({ origins, weight: 100 })).url });
  } else notes.push("HAProxy was skipped: `apt-get install haproxy` failed.");
  if (ensureInstalled("nginx", "nginx")) proxies.push({ name: "nginx", url: (await startNginx({ origins })).url });
  else notes.push("nginx was skipped: `apt-get install nginx` failed.");
  for (const p of proxies) log(`${p.name} listening at ${p.url.href}`);

  const timed = async (p: Proxy, what: string, addresses: readonly string[]) => {
    const t = now();
    const result = await sweep(p.url, addresses, CONCURRENCY);
    const failed = result.filter((o) => o === null).length;
    log(`${p.name}: ${addresses.length} ${what} in ${((now() - t) / 1000).toFixed(1)} s, ${failed} failed`);
    return result;
  };
  for (const p of proxies) {
    p.before = await timed(p, "clients", clients);
    p.cohesion = await timed(p, "cohesion addresses", cohesionAddresses);
  }
  await balancer.origins.find((o) => o.id === VICTIM)!.stop();
  log(`${VICTIM} stopped; sending every client again`);
  for (const p of proxies) p.after = await timed(p, "clients", clients);
} finally {
  await cleanup();
}

const results = proxies.map((p) => proxyFigures(p as Sweeps, IDS, VICTIM, sets));
const floor = samplingFloor(CLIENTS, IDS.length, SEED);
const command = ["npx node scripts/proxy-quality.ts", ...process.argv.slice(2)].join(" ");
const run = {
  command,
  quick: QUICK,
  seed: SEED,
  clients: CLIENTS,
  cohesionCount: COHESION,
  concurrency: CONCURRENCY,
  ids: IDS,
  victim: VICTIM,
  sets,
  results,
  floor,
  notes,
};
const goals = proxyGoals(run);
const outDir = args.out;
await writeReport("proxy-quality.md", proxyReport(run, goals), outDir);
await writePartResult("proxy-quality.json", proxyQualityResult(run, goals), outDir);
log(`wrote proxy-quality.json to ${outDir}`);
process.exit(0);
