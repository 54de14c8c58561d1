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
import http from "node:http";
import { parseArgs } from "node:util";
import { mapLimit, startBalancer } from "../test/e2e/harness.ts";
import {
  buildWorker,
  cleanup,
  ensureInstalled,
  get,
  goalTable,
  installExitHandlers,
  ipv4Clients,
  log,
  machine,
  now,
  onCleanup,
  random32,
  servedBy,
  startHaproxy,
  startNginx,
  version,
  type Goal,
} from "./peers.ts";
import { BENCH_DIR, table, writeJson, writeReport } from "./report.ts";

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

// Cohesion sets, from their own seed so the client set above stays what it was.
const next = random32(SEED ^ 0x5bd1e995);
const hex = (n: number) => n.toString(16);
/** The WHATWG URL serializer's form of an IPv6 address: RFC 5952 (lower case, longest zero run as ::). */
const canonical = (groups: readonly number[]) =>
  new URL(`http://[${groups.map(hex).join(":")}]/`).hostname.slice(1, -1);
/** A global unicast /64 prefix (2000::/3): four random groups. */
const prefix64 = () => [0x2000 | (next() & 0x1fff), next() & 0xffff, next() & 0xffff, next() & 0xffff];

/**
 * One IPv6 address in four spellings: RFC 5952 (`2a01:e0a:12:3400::bcd`), fully expanded
 * (`2a01:0e0a:0012:3400:0000:0000:0000:0bcd`), zero-padded groups with `::`
 * (`2a01:0e0a:0012:3400::0bcd`) and upper case (`2A01:E0A:12:3400::BCD`). The interface id has a
 * zero run and a short group, and some group a hex letter, so the four strings always differ.
 */
function ipv6Forms(): string[] {
  for (;;) {
    const groups = [...prefix64(), next() & 0x0fff, 0, 0, next() & 0xffff];
    const compressed = canonical(groups);
    const padded = compressed
      .split("::")
      .map((half) =>
        half === ""
          ? ""
          : half
              .split(":")
              .map((g) => g.padStart(4, "0"))
              .join(":"),
      )
      .join("::");
    const forms = [compressed, groups.map((g) => hex(g).padStart(4, "0")).join(":"), padded, compressed.toUpperCase()];
    if (new Set(forms).size === forms.length) return forms;
  }
}
/** One IPv4 address dotted and IPv4-mapped (`::ffff:a.b.c.d`). */
function ipv4Forms(): string[] {
  const a = next();
  const dotted = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  return [dotted, `::ffff:${dotted}`];
}
/** Four addresses of one /64 with random interface ids. */
function slash64(): string[] {
  const p = prefix64();
  return Array.from({ length: 4 }, () =>
    canonical([...p, next() & 0xffff, next() & 0xffff, next() & 0xffff, next() & 0xffff]),
  );
}
const COHESION_SETS = [
  { key: "ipv6Forms", label: "4 forms of one IPv6 address", groups: Array.from({ length: COHESION }, ipv6Forms) },
  { key: "ipv4Forms", label: "IPv4 dotted and `::ffff:` mapped", groups: Array.from({ length: COHESION }, ipv4Forms) },
  { key: "slash64", label: "4 addresses of one IPv6 /64", groups: Array.from({ length: COHESION }, slash64) },
] as const;
const cohesionAddresses = COHESION_SETS.flatMap((set) => set.groups.flat());

/** One GET per address through `base`; the answering origin's id per address, or null (failure). */
async function sweep(base: URL, addresses: readonly string[]): Promise<(string | null)[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    return await mapLimit(addresses, CONCURRENCY, async (ip) => servedBy(await get(base, ip, agent, 15_000)));
  } finally {
    agent.destroy();
  }
}

interface Proxy {
  readonly name: string;
  readonly url: URL;
  before?: (string | null)[];
  cohesion?: (string | null)[];
  after?: (string | null)[];
}
const proxies: Proxy[] = [];
const notes: string[] = [];
let peersMeasured = true;

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
  } else {
    peersMeasured = false;
    notes.push("HAProxy was skipped: `apt-get install haproxy` failed.");
  }
  if (ensureInstalled("nginx", "nginx")) proxies.push({ name: "nginx", url: (await startNginx({ origins })).url });
  else {
    peersMeasured = false;
    notes.push("nginx was skipped: `apt-get install nginx` failed.");
  }
  for (const p of proxies) log(`${p.name} listening at ${p.url.href}`);

  const timed = async (p: Proxy, what: string, addresses: readonly string[]) => {
    const t = now();
    const result = await sweep(p.url, addresses);
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

const share = (n: number, of = CLIENTS) => (n / of) * 100;
const pct = (n: number, of = CLIENTS) => `${share(n, of).toFixed(2)} %`;
const round = (x: number, digits = 4) => Number(x.toFixed(digits));

const results = proxies.map((p) => {
  const counts = IDS.map((id) => p.before!.filter((o) => o === id).length);
  const mean = counts.reduce((x, y) => x + y, 0) / IDS.length;
  let onVictim = 0;
  let hadTo = 0;
  let collateral = 0;
  let failedAfter = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const [before, after] = [p.before![i], p.after![i]];
    if (after === null) failedAfter++;
    if (before === VICTIM) onVictim++;
    if (before === null || after === null || before === after) continue;
    if (before === VICTIM) hadTo++;
    else collateral++;
  }
  // Cohesion: a group is whole when every address of it was answered, all by one origin. Chance is
  // what independent placement with this proxy's measured shares would give: Σ shareᵢᵏ.
  const answered = counts.reduce((x, y) => x + y, 0);
  let offset = 0;
  const cohesion = COHESION_SETS.map((set) => {
    let whole = 0;
    let failedGroups = 0;
    for (const group of set.groups) {
      const seen = p.cohesion!.slice(offset, offset + group.length);
      offset += group.length;
      if (seen.some((o) => o === null)) failedGroups++;
      else if (seen.every((o) => o === seen[0])) whole++;
    }
    const k = set.groups[0]!.length;
    const chance = counts.reduce((sum, c) => sum + (c / answered) ** k, 0);
    return { key: set.key, wholePercent: share(whole, set.groups.length), chancePercent: chance * 100, failedGroups };
  });
  return {
    name: p.name,
    counts,
    peakMean: Math.max(...counts) / mean,
    minMean: Math.min(...counts) / mean,
    failedBefore: p.before!.filter((o) => o === null).length,
    onVictim,
    moved: hadTo + collateral,
    hadTo,
    collateral,
    failedAfter,
    cohesion,
  };
});

const balanceRows = results.map((r) => [
  r.name,
  ...r.counts.map(String),
  r.peakMean.toFixed(3),
  r.minMean.toFixed(3),
  String(r.failedBefore),
]);
const moveRows = results.map((r) => [
  r.name,
  pct(r.onVictim),
  pct(r.moved),
  pct(r.hadTo),
  pct(r.collateral),
  pct(r.failedAfter),
]);
const cohesionRows = results.map((r) => [
  r.name,
  ...r.cohesion.flatMap((c) => [`${c.wholePercent.toFixed(1)} %`, `${c.chancePercent.toFixed(1)} %`]),
  String(r.cohesion.reduce((sum, c) => sum + c.failedGroups, 0)),
]);

// The sampling floor: peak/mean of ideal (uniform, independent) placement of this many clients on
// ten origins, over many seeded draws. Anything a proxy does better than this is luck.
const floor = (() => {
  const draw = random32(SEED ^ 0x27d4eb2d);
  const trials = 500;
  const peaks: number[] = [];
  const bins = new Array<number>(IDS.length);
  for (let t = 0; t < trials; t++) {
    bins.fill(0);
    for (let i = 0; i < CLIENTS; i++) bins[draw() % IDS.length]!++;
    peaks.push(Math.max(...bins) / (CLIENTS / IDS.length));
  }
  peaks.sort((a, b) => a - b);
  return { median: peaks[Math.floor(trials / 2)]!, p95: peaks[Math.floor(trials * 0.95)]! };
})();

const ours = results[0];
const peers = results.slice(1);
const goals: Goal[] = ours
  ? [
      {
        goal: `No collateral moves when one origin fails: only the clients of ${VICTIM} move`,
        met: ours.collateral === 0 && ours.failedAfter === 0 && ours.hadTo === ours.onVictim,
        detail: `ours moved ${pct(ours.moved)} of clients; ${pct(ours.onVictim)} were on ${VICTIM}; collateral ${pct(ours.collateral)}; failed ${pct(ours.failedAfter)}`,
      },
      ...COHESION_SETS.map((set, i) => {
        const c = ours.cohesion[i]!;
        const peerText = peers.map((p) => `${p.name} ${p.cohesion[i]!.wholePercent.toFixed(1)} %`).join(", ");
        return {
          goal: `Cohesion, ${set.label.replace(/`/g, "")}: all of a group's requests land on one origin (100 %)`,
          met: c.wholePercent === 100 && c.failedGroups === 0,
          detail: `ours ${c.wholePercent.toFixed(1)} % of ${set.groups.length} groups whole (${c.failedGroups} with a failed request)${peerText ? `; ${peerText}` : ""}`,
        };
      }),
      {
        goal: "Balance at the sampling floor: peak/mean no worse than ideal random placement of these many clients gives 95 % of the time",
        met: ours.peakMean <= floor.p95,
        detail: `ours ${ours.peakMean.toFixed(3)}; ideal placement of ${CLIENTS.toLocaleString("en")} clients: median ${floor.median.toFixed(3)}, 95th percentile ${floor.p95.toFixed(3)}; ${peers.map((p) => `${p.name} ${p.peakMean.toFixed(3)}`).join(", ") || "no peers measured"}`,
      },
    ]
  : [];

const command = ["npx node scripts/proxy-quality.ts", ...process.argv.slice(2)].join(" ");
const example6 = COHESION_SETS[0].groups[0]!;
const example4 = COHESION_SETS[1].groups[0]!;
const example64 = COHESION_SETS[2].groups[0]!;
const markdown = `# Mapping quality through the real proxies

Machine: ${machine()}, ${version("haproxy", "-v")}, ${version("nginx", "-v")}. Clients: ${CLIENTS.toLocaleString("en")} distinct IPv4 addresses (seed ${SEED}), one GET each with \`CF-Connecting-IP\`, ${CONCURRENCY} at a time over keep-alive. Command: \`${command}\`${QUICK ? " (quick: small sizes, for checking that the script works)" : ""}.

Ten origins \`o0\` … \`o9\` on 127.0.0.1 (scripts/demo-origins.ts), shared by every proxy. Ours: the dist/ bundle in workerd (Miniflare), \`HEALTH_INTERVAL_MS=0\`. HAProxy: \`balance hdr(CF-Connecting-IP)\` + \`hash-type consistent\`, \`mode http\`, no health checks, default weight 1 (16 ring points per server) or \`weight 100\`. nginx: \`hash $http_cf_connecting_ip consistent\` with defaults (\`max_fails=1 fail_timeout=10s\`, \`proxy_next_upstream error timeout\`).

## Balance: clients per origin

${table(["proxy", ...IDS, "peak/mean", "min/mean", "failed"], balanceRows)}

Goal (issue 5) for 10 origins: peak/mean ≤ 1.02 at 1M clients. At ${CLIENTS.toLocaleString("en")} clients sampling alone spreads each origin's count by about ±${((1 / Math.sqrt(CLIENTS / IDS.length)) * 100).toFixed(1)} % (one standard deviation), so these figures show gross imbalance only (ideal random placement of this many clients gives a peak/mean of ${floor.median.toFixed(3)} in the median draw, ${floor.p95.toFixed(3)} at the 95th percentile); scripts/ring-quality.ts measures the fine one.

## Cohesion: one client, several spellings or addresses

${table(["proxy", ...COHESION_SETS.flatMap((set) => [`${set.label}: on one origin`, "chance"]), "groups with a failed request"], cohesionRows)}

Sent with all ten origins up, one GET per address, after the balance sweep. ${COHESION.toLocaleString("en")} groups per set: IPv6 addresses each spelled four ways (e.g. \`${example6.join("`, `")}\`); IPv4 addresses dotted and IPv4-mapped (\`${example4.join("`, `")}\`); IPv6 /64s with four random interface ids each (e.g. \`${example64.join("`, `")}\`). A group counts when every one of its requests was answered by the same origin. "chance" is what independent placement would give with the proxy's own shares above (Σ shareᵏ for k requests per group: about 0.1 % for four, 10 % for two). HAProxy and nginx hash the header's text, so each spelling and each address is a separate key; ours parses the address, folds an IPv4-mapped address to IPv4 and keys IPv6 by its /64 (\`IPV6_PREFIX\` 64).

## \`${VICTIM}\` stopped: every client sent again

${table(["proxy", `clients on ${VICTIM} before (ideal move)`, "moved", `had to move (were on ${VICTIM})`, "collateral (moved, were not)", "failed requests (non-2xx)"], moveRows)}

Shares are of all ${CLIENTS.toLocaleString("en")} clients. No proxy is told that \`${VICTIM}\` died: each learns it from refused connections. nginx retries the next server by default (\`proxy_next_upstream error\`) and marks it failed for \`fail_timeout\`. HAProxy needs \`retries 2\` and \`option redispatch\` (set here) to send a refused request to another server on its last retry, after a turn-around delay of up to 1 s per retry; without them those clients get 503. Ours retries the ring's next origin (\`MAX_ATTEMPTS\`).

## Goals

${goalTable(goals)}
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}`;

const outDir = args.out;
await writeReport("proxy-quality.md", markdown, outDir);
await writeJson(
  "proxy-quality.json",
  {
    machine: machine(),
    haproxy: version("haproxy", "-v"),
    nginx: version("nginx", "-v"),
    command,
    quick: QUICK,
    clients: CLIENTS,
    cohesionGroups: COHESION,
    seed: SEED,
    samplingFloorPeakMean: { median: round(floor.median), p95: round(floor.p95) },
    origins: IDS,
    victim: VICTIM,
    proxies: results.map((r) => ({
      name: r.name,
      counts: Object.fromEntries(IDS.map((id, i) => [id, r.counts[i]!])),
      peakMean: round(r.peakMean),
      minMean: round(r.minMean),
      failedBefore: r.failedBefore,
      victimSharePercent: round(share(r.onVictim)),
      movedPercent: round(share(r.moved)),
      hadToMovePercent: round(share(r.hadTo)),
      collateralPercent: round(share(r.collateral)),
      failedAfterPercent: round(share(r.failedAfter)),
      cohesion: Object.fromEntries(
        r.cohesion.map((c) => [
          c.key,
          { wholePercent: round(c.wholePercent), chancePercent: round(c.chancePercent), failedGroups: c.failedGroups },
        ]),
      ),
    })),
    goals,
    notes,
  },
  outDir,
);
log(`wrote proxy-quality.json to ${outDir}`);
process.exit(0);
