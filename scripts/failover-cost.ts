/**
 * Failover cost (issue 5, "Measure" item 4): what a client pays when its origin fails, through our
 * balancer (the dist/ bundle in workerd via Miniflare), HAProxy 2.6 and nginx 1.22, all in front
 * of the same ten loopback origins and sent the same seeded clients.
 *
 *   a. the added latency of a request whose primary refuses connections (its process closed),
 *      against the same request with the primary up;
 *   b. the added latency when the primary black-holes (accepts TCP, never answers);
 *   c. the time from an origin's death to the first request that no longer tries it, and the
 *      errors and delays clients saw meanwhile;
 *   d. the time from its recovery to the first request it serves again (its clients' return).
 *
 * a and b run with each proxy's learning switched off (no probes, no passive ejection), so every
 * request pays what a request pays before the proxy has learnt; c and d run all three proxies at
 * once with health checking on, through the same deaths and recoveries. Prints progress, writes
 * failover.md and failover.json (to bench/ or `--out DIR`), asserts nothing.
 *
 *   npx node scripts/failover-cost.ts [--quick] [--out DIR] [--try-timeout MS] [--seed N]
 */
import http from "node:http";
import net from "node:net";
import { parseArgs } from "node:util";
import { mapLimit, startBalancer } from "../test/e2e/harness.ts";
import { startOrigin, startOrigins, type DemoOrigin } from "./demo-origins.ts";
import {
  buildWorker,
  cleanup,
  ensureInstalled,
  get,
  goalTable,
  haproxyServerStatus,
  installExitHandlers,
  ipv4Clients,
  log,
  machine,
  now,
  onCleanup,
  servedBy,
  sleep,
  startHaproxy,
  startNginx,
  version,
  type Goal,
  type Reply,
} from "./peers.ts";
import { BENCH_DIR, table, writeJson, writeReport } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: BENCH_DIR },
    seed: { type: "string", default: "20261122" },
    "try-timeout": { type: "string", default: "1000" },
  },
});
const QUICK = args.quick;
const SEED = Number(args.seed) >>> 0;
/** The per-try timeout of every proxy: ours TRY_TIMEOUT_MS, HAProxy `timeout server`, nginx `proxy_read_timeout`. */
const TRY_TIMEOUT_MS = Number(args["try-timeout"]);
if (!(TRY_TIMEOUT_MS >= 100 && TRY_TIMEOUT_MS <= 100_000)) throw new RangeError("--try-timeout must be 100–100000");
const SIZES = QUICK
  ? { candidates: 1_000, latencyN: 150, rate: 100, blackholeN: 60, blackholeRate: 50, cycles: 1, deadMs: 10_000 }
  : { candidates: 4_000, latencyN: 600, rate: 100, blackholeN: 300, blackholeRate: 50, cycles: 3, deadMs: 15_000 };
/** c/d: requests per second per proxy, one in three from a client of the victim. */
const LOAD_RATE = 60;
const RECOVERY_CAP_MS = 25_000;
const IDS = Array.from({ length: 10 }, (_, i) => `o${i}`);
const VICTIM = "o3";

// Ours. a/b: learning off (no probe alarm, no ejection within the run, a retry budget that every
// request may use), so each request pays the retry. c/d: health settings scaled down 10× from the
// defaults (interval 10 s → 1 s, snapshot TTL 10 s → 1 s), the rest default except slow start.
const OURS_COMMON = { DEBUG_HEADERS: "true", TRY_TIMEOUT_MS: String(TRY_TIMEOUT_MS), HEALTH_PATH: "/healthz" };
const OURS_NO_LEARNING = {
  ...OURS_COMMON,
  HEALTH_INTERVAL_MS: "0",
  EJECT_AFTER_FAILURES: "1000",
  RETRY_BUDGET_PERCENT: "100",
};
const OURS_HEALTH = {
  ...OURS_COMMON,
  HEALTH_INTERVAL_MS: "1000",
  HEALTH_FAST_INTERVAL_MS: "200",
  HEALTH_TIMEOUT_MS: "500",
  HEALTH_RISE: "2",
  HEALTH_FALL: "3",
  SNAPSHOT_TTL_MS: "1000",
  SLOW_START_MS: "0",
};
const PROBE_INTERVAL_MS = Number(OURS_HEALTH.HEALTH_INTERVAL_MS);
const RISE = Number(OURS_HEALTH.HEALTH_RISE);
// HAProxy: the issue's configuration (retries 3 + option redispatch, checks inter 2s rise 2 fall 3).
const HAPROXY_DEFAULTS = [
  "timeout connect 1s",
  "timeout client 30s",
  `timeout server ${TRY_TIMEOUT_MS}ms`,
  "retries 3",
  "option redispatch",
];
const HAPROXY_HEADERS = ['http-response set-header X-Retries "%rc"', 'http-response set-header X-Server "%s"'];
const HAPROXY_CHECK = "check inter 2s rise 2 fall 3";
// nginx: defaults (max_fails=1 fail_timeout=10s, proxy_next_upstream error timeout), the per-try
// timeout above, and the servers tried in a response header; a/b with max_fails=0 (never marks).
const NGINX_LOCATION = [`proxy_read_timeout ${TRY_TIMEOUT_MS}ms;`, "add_header X-Upstream $upstream_addr always;"];
const NGINX_FAIL_TIMEOUT_MS = 10_000;

installExitHandlers();
const candidates = ipv4Clients(SIZES.candidates, SEED);

// ---- origins, and the victim's three lives: up, refusing (closed), black-holing ----

const origins: DemoOrigin[] = [];
let victimPort = 0;
async function startVictim(): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      origins[IDS.indexOf(VICTIM)] = await startOrigin(VICTIM, { port: victimPort });
      return;
    } catch (error) {
      if (tries >= 40) throw error;
      await sleep(50);
    }
  }
}
const victim = () => origins[IDS.indexOf(VICTIM)]!;
let victimDown = false;
async function killVictim(): Promise<void> {
  victimDown = true;
  await victim().stop();
}
async function reviveVictim(): Promise<void> {
  await startVictim();
  victimDown = false;
}

/** A listener on the victim's port that accepts connections, counts them and never answers. */
async function startBlackhole(): Promise<{ connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(victimPort, "127.0.0.1", () => resolve());
  });
  const close = onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  return { connections: () => connections, close };
}

// ---- the proxies ----

type Kind = "ours" | "haproxy" | "nginx";
interface Target {
  readonly name: string;
  readonly kind: Kind;
  readonly url: URL;
  readonly stop: () => Promise<void>;
  readonly statsSocket: string | null;
  victims: string[];
  others: string[];
}

/** Whether a reply shows that the proxy tried the victim for this request (failed or served). */
function triedVictim(kind: Kind, reply: Reply): boolean {
  if (servedBy(reply) === null) return true; // an error: counted apart, and never "avoided"
  if (servedBy(reply) === VICTIM) return true;
  const h = reply.headers;
  if (kind === "ours") return Number(h["x-lb-attempts"] ?? "1") > 1;
  if (kind === "haproxy") return String(h["x-retries"] ?? "0") !== "0";
  return String(h["x-upstream"] ?? "").includes(`127.0.0.1:${victimPort}`);
}

async function startOurs(vars: Record<string, string>): Promise<Target> {
  const balancer = await startBalancer([], {
    STATUS_PUBLIC: "true", // startWatch reads /__lb/status without the admin token
    ...vars,
    ORIGINS: JSON.stringify(origins.map((o) => ({ id: o.id, url: `http://127.0.0.1:${o.port}` }))),
  });
  const stop = onCleanup(() => balancer.close());
  return { name: "ours (workerd)", kind: "ours", url: balancer.url, stop, statsSocket: null, victims: [], others: [] };
}
const originAddresses = () => IDS.map((id, i) => ({ id, port: origins[i]!.port }));
async function startHaproxyTarget(checks: boolean): Promise<Target> {
  const p = await startHaproxy({
    origins: originAddresses(),
    defaults: HAPROXY_DEFAULTS,
    backend: checks ? ["option httpchk GET /healthz", ...HAPROXY_HEADERS] : HAPROXY_HEADERS,
    serverOptions: checks ? HAPROXY_CHECK : undefined,
    stats: checks,
  });
  configs.haproxy[checks ? "health" : "noLearning"] = p.config;
  return {
    name: "HAProxy",
    kind: "haproxy",
    url: p.url,
    stop: p.stop,
    statsSocket: p.statsSocket,
    victims: [],
    others: [],
  };
}
async function startNginxTarget(marks: boolean): Promise<Target> {
  const p = await startNginx({
    origins: originAddresses(),
    serverParams: marks ? undefined : "max_fails=0",
    location: NGINX_LOCATION,
  });
  configs.nginx[marks ? "health" : "noLearning"] = p.config;
  return { name: "nginx", kind: "nginx", url: p.url, stop: p.stop, statsSocket: null, victims: [], others: [] };
}
const configs = { haproxy: { noLearning: "", health: "" }, nginx: { noLearning: "", health: "" } };

/** Maps the candidates through `t` (all origins up): its victim's clients and the others. */
async function findVictims(t: Target): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const served = await mapLimit(candidates, 16, async (ip) => servedBy(await get(t.url, ip, agent, 15_000)));
    t.victims = candidates.filter((_, i) => served[i] === VICTIM);
    t.others = candidates.filter((_, i) => served[i] !== VICTIM && served[i] !== null);
    const failed = served.filter((o) => o === null).length;
    log(`${t.name}: ${t.victims.length} of ${candidates.length} candidates have ${VICTIM} first (${failed} failed)`);
  } finally {
    agent.destroy();
  }
}

/** Sends `n` GETs at `rate` per second (open loop: a slow answer never delays the next request). */
async function openLoop(t: Target, ips: readonly string[], n: number, rate: number): Promise<Reply[]> {
  const agent = new http.Agent({ keepAlive: true });
  try {
    const start = now();
    const pending: Promise<Reply>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / rate - now();
      if (wait > 0) await sleep(wait);
      pending.push(get(t.url, ips[i % ips.length]!, agent));
    }
    return await Promise.all(pending);
  } finally {
    agent.destroy();
  }
}

// ---- statistics ----

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const median = (v: readonly number[]) => quantile(v, 0.5);
const p99 = (v: readonly number[]) => quantile(v, 0.99);
const ms = (x: number | null) => (x === null || Number.isNaN(x) ? "–" : `${Math.round(x).toLocaleString("en")} ms`);
const ms1 = (x: number) => (Number.isNaN(x) ? "–" : `${x.toFixed(1)} ms`);
const round1 = (x: number | null) => (x === null || Number.isNaN(x) ? null : Math.round(x * 10) / 10);
const errorsOf = (replies: readonly Reply[]) => replies.filter((r) => servedBy(r) === null).length;

interface LatencyResult {
  readonly name: string;
  readonly requests: number;
  readonly upMedian: number;
  readonly upP99: number;
  readonly refusedMedian: number;
  readonly refusedP99: number;
  readonly refusedMax: number;
  readonly refusedTried: number;
  readonly refusedErrors: number;
  readonly refusedStatuses: string;
  readonly upErrors: number;
  readonly blackholeRequests: number;
  readonly blackholeMedian: number;
  readonly blackholeP99: number;
  readonly blackholeConnections: number;
  readonly blackholeErrors: number;
  readonly blackholeStatuses: string;
}
const statuses = (replies: readonly Reply[]) => {
  const counts = new Map<number, number>();
  for (const r of replies) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([status, n]) => `${n}× ${status === 0 ? "no answer" : status}`)
    .join(", ");
};

/** a and b for one proxy whose learning is off. The victim is up on entry and on return. */
async function measureLatency(t: Target): Promise<LatencyResult> {
  await findVictims(t);
  const victims = t.victims;
  await openLoop(t, victims, 20, SIZES.rate); // warm connections
  const up = await openLoop(t, victims, SIZES.latencyN, SIZES.rate);
  log(`${t.name}: primary up, ${up.length} requests: median ${ms1(median(up.map((r) => r.ms)))}`);
  await killVictim();
  let refused: Reply[];
  try {
    refused = await openLoop(t, victims, SIZES.latencyN, SIZES.rate);
    log(`${t.name}: primary refusing, ${refused.length} requests: median ${ms1(median(refused.map((r) => r.ms)))}`);
    const blackhole = await startBlackhole();
    let held: Reply[];
    let connections: number;
    try {
      held = await openLoop(t, victims, SIZES.blackholeN, SIZES.blackholeRate);
      connections = blackhole.connections();
    } finally {
      await blackhole.close();
    }
    log(`${t.name}: primary black-holing, ${held.length} requests: median ${ms1(median(held.map((r) => r.ms)))}`);
    const ok = (replies: Reply[]) => replies.map((r) => r.ms);
    return {
      name: t.name,
      requests: up.length,
      upMedian: median(ok(up)),
      upP99: p99(ok(up)),
      upErrors: errorsOf(up),
      refusedMedian: median(ok(refused)),
      refusedP99: p99(ok(refused)),
      refusedMax: Math.max(...ok(refused)),
      refusedTried: refused.filter((r) => triedVictim(t.kind, r)).length,
      refusedErrors: errorsOf(refused),
      refusedStatuses: statuses(refused),
      blackholeRequests: held.length,
      blackholeMedian: median(ok(held)),
      blackholeP99: p99(ok(held)),
      blackholeConnections: connections,
      blackholeErrors: errorsOf(held),
      blackholeStatuses: statuses(held),
    };
  } finally {
    await reviveVictim();
  }
}

// ---- c and d: all proxies under load through the same deaths and recoveries ----

interface Sample extends Reply {
  readonly victimClient: boolean;
  readonly tried: boolean;
  readonly origin: string | null;
}
interface Event {
  readonly at: number;
  readonly state: string;
}

/** Runs an open-loop load on `t` until `stop()`; one request in three from a victim client. */
function startLoad(t: Target): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  const agent = new http.Agent({ keepAlive: true });
  let running = true;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    const start = now();
    for (let i = 0; running; i++) {
      const wait = start + (i * 1000) / LOAD_RATE - now();
      if (wait > 0) await sleep(wait);
      const victimClient = i % 3 === 0;
      const pool = victimClient ? t.victims : t.others;
      const ip = pool[Math.floor(i / 3) % pool.length]!;
      const request: Promise<void> = get(t.url, ip, agent).then((reply) => {
        samples.push({ ...reply, victimClient, tried: triedVictim(t.kind, reply), origin: servedBy(reply) });
        inflight.delete(request);
      });
      inflight.add(request);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      await Promise.all(inflight);
      agent.destroy();
    },
  };
}

/** Polls the victim's state as the proxy reports it (ours: /__lb/status; HAProxy: show stat). */
function startWatch(t: Target): { events: Event[]; stop: () => Promise<void> } | null {
  if (t.kind === "nginx") return null;
  const events: Event[] = [];
  let running = true;
  const read = async (): Promise<string> => {
    if (t.kind === "haproxy") return (await haproxyServerStatus(t.statsSocket!)).get(VICTIM) ?? "?";
    const status = (await (await fetch(new URL("/__lb/status", t.url))).json()) as {
      origins: {
        id: string;
        health: string;
        ejectedUntil: number | null;
        traffic: number;
        probe: { lastAt: number | null; error: string | null } | null;
      }[];
    };
    const o = status.origins.find((x) => x.id === VICTIM)!;
    // ejectedUntil stays set (in the past) once an ejection ended: ejected means "until later".
    const ejected = o.ejectedUntil !== null && o.ejectedUntil > Date.now();
    const probe = o.probe?.lastAt == null ? "not probed yet" : o.probe.error === null ? "passed" : "failed";
    return `last probe ${probe} (object); health ${o.health}${ejected ? ", ejected" : ""}, traffic ${o.traffic} (isolate)`;
  };
  const loop = (async () => {
    while (running) {
      const at = now();
      const state = await read().catch((error: Error) => `unreadable (${error.message})`);
      if (events.length === 0 || events[events.length - 1]!.state !== state) events.push({ at, state });
      await sleep(100);
    }
  })();
  return {
    events,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

interface Cycle {
  readonly deathAt: number;
  readonly recoveryAt: number;
  readonly endAt: number;
}
interface CycleResult {
  readonly baselineMedian: number;
  readonly deadRequests: number;
  readonly detectMs: number | null;
  readonly lastTriedMs: number | null;
  readonly triedRequests: number;
  readonly triedAfterDetect: number;
  readonly maxAddedMs: number;
  readonly p99AddedMs: number;
  readonly slowRequests: number;
  readonly errorsDead: number;
  readonly errorsRecovery: number;
  readonly readmitMs: number | null;
  readonly allBackMs: number | null;
  readonly events: string[];
}

function analyse(samples: readonly Sample[], events: readonly Event[] | null, cycle: Cycle): CycleResult {
  const bySent = [...samples].sort((a, b) => a.sentAt - b.sentAt);
  const v = bySent.filter((s) => s.victimClient);
  const baseline = v.filter(
    (s) => s.sentAt >= cycle.deathAt - 3_000 && s.sentAt < cycle.deathAt && s.origin === VICTIM,
  );
  const baselineMedian = median(baseline.map((s) => s.ms));
  const dead = v.filter((s) => s.sentAt >= cycle.deathAt && s.sentAt < cycle.recoveryAt);
  const firstAvoid = dead.findIndex((s) => !s.tried);
  const tried = dead.filter((s) => s.tried);
  const lastTried = tried.length > 0 ? tried[tried.length - 1]! : null;
  const added = dead.map((s) => s.ms - baselineMedian);
  const back = v.filter((s) => s.sentAt >= cycle.recoveryAt && s.sentAt < cycle.endAt);
  const firstBack = back.find((s) => s.origin === VICTIM) ?? null;
  const lastAway = [...back].reverse().find((s) => s.origin !== VICTIM) ?? null;
  const allBack = back.find((s) => s.origin === VICTIM && (lastAway === null || s.sentAt > lastAway.sentAt)) ?? null;
  const errorsIn = (from: number, to: number) =>
    bySent.filter((s) => s.sentAt >= from && s.sentAt < to && s.origin === null).length;
  const rel = (at: number) => {
    const from = at < cycle.recoveryAt ? cycle.deathAt : cycle.recoveryAt;
    return `${at < cycle.recoveryAt ? "death" : "recovery"} + ${Math.round(at - from)} ms`;
  };
  return {
    baselineMedian,
    deadRequests: dead.length,
    detectMs: firstAvoid >= 0 ? dead[firstAvoid]!.sentAt - cycle.deathAt : null,
    lastTriedMs: lastTried === null ? null : lastTried.sentAt - cycle.deathAt,
    triedRequests: tried.length,
    triedAfterDetect: firstAvoid >= 0 ? dead.slice(firstAvoid).filter((s) => s.tried).length : 0,
    maxAddedMs: added.length > 0 ? Math.max(...added) : Number.NaN,
    p99AddedMs: p99(added),
    slowRequests: added.filter((a) => a >= 1_000).length,
    // Requests sent up to 1 s before the death can be in flight when it happens.
    errorsDead: errorsIn(cycle.deathAt - 1_000, cycle.recoveryAt),
    errorsRecovery: errorsIn(cycle.recoveryAt, cycle.endAt),
    readmitMs: firstBack === null ? null : firstBack.sentAt - cycle.recoveryAt,
    allBackMs: allBack === null ? null : allBack.sentAt - cycle.recoveryAt,
    events: (events ?? [])
      .filter((e) => e.at >= cycle.deathAt && e.at < cycle.endAt)
      .map((e) => `${rel(e.at)}: ${e.state}`),
  };
}

/** The bound each proxy's own settings promise for re-admission after a recovery. */
const readmitBound = (kind: Kind) =>
  kind === "ours" ? PROBE_INTERVAL_MS * RISE : kind === "haproxy" ? 2_000 * 2 : NGINX_FAIL_TIMEOUT_MS;

// ---- run ----

const notes: string[] = [];
const latency: LatencyResult[] = [];
const health: { name: string; kind: Kind; victims: number; cycles: CycleResult[] }[] = [];
let peersMeasured = true;

try {
  buildWorker();
  origins.push(...(await startOrigins(IDS)));
  victimPort = victim().port;
  onCleanup(() => Promise.all(origins.map((o) => (o.id === VICTIM && victimDown ? undefined : o.stop()))));
  log(`origins ${IDS.join(", ")} on 127.0.0.1:${origins.map((o) => o.port).join(", ")}; the victim is ${VICTIM}`);
  const haproxy = ensureInstalled("haproxy", "haproxy");
  const nginx = ensureInstalled("nginx", "nginx");
  if (!haproxy) notes.push("HAProxy was not measured: `apt-get install haproxy` failed.");
  if (!nginx) notes.push("nginx was not measured: `apt-get install nginx` failed.");
  peersMeasured = haproxy && nginx;

  // a and b, one proxy at a time, learning off.
  const starters: (() => Promise<Target>)[] = [() => startOurs(OURS_NO_LEARNING)];
  if (haproxy) starters.push(() => startHaproxyTarget(false));
  if (nginx) starters.push(() => startNginxTarget(false));
  for (const start of starters) {
    const t = await start();
    log(`${t.name} (learning off) at ${t.url.href}`);
    try {
      latency.push(await measureLatency(t));
    } finally {
      await t.stop();
    }
  }

  // c and d, all proxies at once, learning on.
  const targets: Target[] = [await startOurs(OURS_HEALTH)];
  if (haproxy) targets.push(await startHaproxyTarget(true));
  if (nginx) targets.push(await startNginxTarget(true));
  for (const t of targets) await findVictims(t);
  await sleep(3 * PROBE_INTERVAL_MS); // ours: a few probe rounds, every origin up
  const loads = targets.map(startLoad);
  const watches = targets.map(startWatch);
  const cycles: Cycle[] = [];
  try {
    await sleep(3_000);
    for (let c = 0; c < SIZES.cycles; c++) {
      const deathAt = now();
      await killVictim();
      log(`cycle ${c + 1}/${SIZES.cycles}: ${VICTIM} stopped (connections refused) for ${SIZES.deadMs / 1000} s`);
      await sleep(SIZES.deadMs - (now() - deathAt));
      const recoveryAt = now();
      await reviveVictim();
      log(`cycle ${c + 1}: ${VICTIM} back on its port; waiting for every proxy to send it its clients again`);
      // Until every proxy has served a victim client from the victim again, then 3 s more.
      const backAt = new Map<string, number>();
      while (now() - recoveryAt < RECOVERY_CAP_MS && backAt.size < targets.length) {
        await sleep(100);
        targets.forEach((t, i) => {
          const back = loads[i]!.samples.find((s) => s.victimClient && s.sentAt >= recoveryAt && s.origin === VICTIM);
          if (back !== undefined && !backAt.has(t.name)) {
            backAt.set(t.name, back.sentAt);
            log(
              `cycle ${c + 1}: ${t.name} sent a client to ${VICTIM} ${Math.round(back.sentAt - recoveryAt)} ms after recovery`,
            );
          }
        });
      }
      await sleep(3_000);
      cycles.push({ deathAt, recoveryAt, endAt: now() });
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    await Promise.all(watches.map((w) => w?.stop()));
  }
  targets.forEach((t, i) => {
    health.push({
      name: t.name,
      kind: t.kind,
      victims: t.victims.length,
      cycles: cycles.map((cycle) => analyse(loads[i]!.samples, watches[i]?.events ?? null, cycle)),
    });
    const errors = loads[i]!.samples.filter((s) => s.origin === null).length;
    log(`${t.name}: ${loads[i]!.samples.length} requests under load, ${errors} errors`);
  });
} finally {
  await cleanup();
}

// ---- report ----

const oursLatency = latency.find((l) => l.name.startsWith("ours"))!;
const oursHealth = health.find((h) => h.kind === "ours")!;
// Added latency: the failed-primary request's quantile minus the same quantile with the primary up.
const addedP99 = (l: LatencyResult, what: "refused" | "blackhole") =>
  (what === "refused" ? l.refusedP99 : l.blackholeP99) - l.upP99;
const addedMedian = (l: LatencyResult, what: "refused" | "blackhole") =>
  (what === "refused" ? l.refusedMedian : l.blackholeMedian) - l.upMedian;
const allErrors = (name: string) => {
  const l = latency.find((x) => x.name === name);
  const h = health.find((x) => x.name === name);
  return (
    (l ? l.upErrors + l.refusedErrors + l.blackholeErrors : 0) +
    (h ? h.cycles.reduce((sum, c) => sum + c.errorsDead + c.errorsRecovery, 0) : 0)
  );
};
const worst = (h: (typeof health)[number], pick: (c: CycleResult) => number | null) =>
  h.cycles.reduce((m, c) => Math.max(m, pick(c) ?? Number.POSITIVE_INFINITY), Number.NEGATIVE_INFINITY);

const verdict = (name: string) => {
  const l = latency.find((x) => x.name === name)!;
  const h = health.find((x) => x.name === name)!;
  return {
    noError: allErrors(name) === 0,
    refusedUnderSecond: Math.max(addedMedian(l, "refused"), addedP99(l, "refused")) < 1_000,
    // Issue 5 bounds this case by the per-try timeout, not by a second: a black hole is only
    // known to be one when the timeout fires. 10 % + 50 ms slack for timer and scheduling jitter.
    blackholeWithinTimeout:
      Math.max(addedMedian(l, "blackhole"), addedP99(l, "blackhole")) <= TRY_TIMEOUT_MS * 1.1 + 50 &&
      l.blackholeErrors === 0,
    detectionUnderSecond: worst(h, (c) => c.maxAddedMs) < 1_000,
    readmitWithinBound: worst(h, (c) => c.readmitMs) <= PROBE_INTERVAL_MS * RISE,
  };
};
const ours = verdict(oursLatency.name);
const goals: Goal[] = [
  {
    goal: "No client error (primary refusing, primary black-holing, death and recovery under load)",
    met: ours.noError,
    detail: `ours: ${allErrors(oursLatency.name)} failed requests in all phases`,
  },
  {
    goal: "No added second: primary refuses connections",
    met: ours.refusedUnderSecond,
    detail: `ours: added median ${ms1(addedMedian(oursLatency, "refused"))}, p99 ${ms1(addedP99(oursLatency, "refused"))}`,
  },
  {
    goal: "Primary black-holes: no error, added latency bounded by the per-try timeout",
    met: ours.blackholeWithinTimeout,
    detail: `ours: added median ${ms(addedMedian(oursLatency, "blackhole"))}, p99 ${ms(addedP99(oursLatency, "blackhole"))} with TRY_TIMEOUT_MS ${TRY_TIMEOUT_MS} (the default, 10,000, adds 10 s)`,
  },
  {
    goal: "No added second while the balancer learns of a death",
    met: ours.detectionUnderSecond,
    detail: `ours: worst added latency of a request from the dead origin's clients ${ms(worst(oursHealth, (c) => c.maxAddedMs))} over ${oursHealth.cycles.length} death(s)`,
  },
  {
    goal: "Re-admission within the probe interval × rise",
    met: ours.readmitWithinBound,
    detail: `ours: first client back ${oursHealth.cycles.map((c) => ms(c.readmitMs)).join(", ")} after recovery; bound ${PROBE_INTERVAL_MS} ms × ${RISE} = ${ms(PROBE_INTERVAL_MS * RISE)}`,
  },
];

const yes = (b: boolean) => (b ? "yes" : "**missed**");
const latencyRows = (what: "refused" | "blackhole") =>
  latency.map((l) => [
    l.name,
    String(what === "refused" ? l.requests : l.blackholeRequests),
    ms1(l.upMedian),
    ms1(l.upP99),
    ms1(what === "refused" ? l.refusedMedian : l.blackholeMedian),
    ms1(what === "refused" ? l.refusedP99 : l.blackholeP99),
    ms1(addedMedian(l, what)),
    ms1(addedP99(l, what)),
    what === "refused" ? `${l.refusedTried} / ${l.requests}` : `${l.blackholeConnections} / ${l.blackholeRequests}`,
    what === "refused" ? l.refusedStatuses : l.blackholeStatuses,
  ]);
const detectRows = health.flatMap((h) =>
  h.cycles.map((c, i) => [
    h.name,
    String(i + 1),
    ms(c.detectMs),
    ms(c.lastTriedMs),
    `${c.triedRequests} / ${c.deadRequests}`,
    String(c.triedAfterDetect),
    ms(c.maxAddedMs),
    ms(c.p99AddedMs),
    String(c.slowRequests),
    String(c.errorsDead),
  ]),
);
const readmitRows = health.flatMap((h) =>
  h.cycles.map((c, i) => [
    h.name,
    String(i + 1),
    ms(c.readmitMs),
    ms(c.allBackMs),
    ms(readmitBound(h.kind)),
    c.readmitMs !== null && c.readmitMs <= readmitBound(h.kind) ? "yes" : "no",
    String(c.errorsRecovery),
  ]),
);
const peerRows = latency.map((l) => {
  const v = verdict(l.name);
  return [
    l.name,
    yes(v.noError),
    yes(v.refusedUnderSecond),
    yes(v.blackholeWithinTimeout),
    yes(v.detectionUnderSecond),
    yes(v.readmitWithinBound),
  ];
});
const timeline = health
  .filter((h) => h.kind !== "nginx")
  .flatMap((h) => h.cycles.map((c, i) => `- ${h.name}, cycle ${i + 1}: ${c.events.join("; ") || "no change seen"}`))
  .join("\n");
const settingsOf = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(", ");
const configExcerpt = (config: string, keep: RegExp) =>
  config
    .split("\n")
    .filter((line) => keep.test(line))
    .map((line) => line.trim())
    .filter((line, i, all) => !line.startsWith("server ") || all.findIndex((x) => x.startsWith("server ")) === i)
    .join("\n");

const oursWorstReadmit = worst(oursHealth, (c) => c.readmitMs);
const ttl = Number(OURS_HEALTH.SNAPSHOT_TTL_MS);
const readmitNote =
  oursWorstReadmit > PROBE_INTERVAL_MS * RISE && oursWorstReadmit <= PROBE_INTERVAL_MS * RISE + ttl
    ? `Our re-admission misses the probe interval × rise by the snapshot refresh: the Durable Object reaches its verdict with the ${RISE === 2 ? "second" : `${RISE}th`} passing probe, about ${ms(PROBE_INTERVAL_MS * RISE)} after the recovery at worst (the timeline above shows when), but the isolate that serves the clients routes on it only from its next refresh, up to \`SNAPSHOT_TTL_MS\` later (here the worst case was ${ms(oursWorstReadmit)}, within interval × rise + TTL = ${ms(PROBE_INTERVAL_MS * RISE + ttl)}). Closing it takes getting the verdict to the isolates sooner (a shorter \`SNAPSHOT_TTL_MS\` costs Durable Object calls, see the README's scale table) or a goal that counts the TTL.\n\n`
    : "";
const command = ["npx node scripts/failover-cost.ts", ...process.argv.slice(2)].join(" ");
const dur = (x: number) => `${x / 1000} s`;
const markdown = `# Failover cost

Machine: ${machine()}, ${version("haproxy", "-v")}, ${version("nginx", "-v")}. Command: \`${command}\`${QUICK ? " (quick: small sizes, for checking that the script works)" : ""}. Issue 5, "Measure" item 4.

Ten origins \`o0\` … \`o9\` on 127.0.0.1 (scripts/demo-origins.ts) behind each proxy; \`${VICTIM}\` is the one that fails. ${SIZES.candidates.toLocaleString("en")} seeded IPv4 clients (seed ${SEED}) are mapped through each proxy with all origins up; the ones whose first choice is \`${VICTIM}\` there are that proxy's "victim clients" (${health.map((h) => `${h.name} ${h.victims}`).join(", ")}). Each proxy's per-try timeout is ${TRY_TIMEOUT_MS} ms (ours \`TRY_TIMEOUT_MS\`, HAProxy \`timeout server\`, nginx \`proxy_read_timeout\`). Latencies are the client's (a Node HTTP client on the same machine, keep-alive), whole response; the machine's 2 cores are shared with the proxies, so single milliseconds are noise.

## Settings

**a and b** measure what one request pays while a proxy still tries the failed primary, so each proxy's learning is off and every request pays it: ours ${settingsOf(OURS_NO_LEARNING)} (no probe alarm, no ejection within the run, every request may retry); HAProxy without \`check\`; nginx with \`max_fails=0\`. How many requests pay it is what c measures.

**c and d** run all three proxies at once, with health checking on, through ${SIZES.cycles} death(s) of \`${VICTIM}\` (its process closed: connections refused) of ${dur(SIZES.deadMs)} each and its recovery on the same port. Each proxy gets ${LOAD_RATE} GETs per second, open loop, one in three from a victim client (so ${LOAD_RATE / 3}/s from the dead origin's clients, ${(2 * LOAD_RATE) / 3}/s from others).

- ours: ${settingsOf(OURS_HEALTH)}, the rest default (\`EJECT_AFTER_FAILURES=5\`, \`REPORT_INTERVAL_MS=1000\`, \`EJECT_BASE_MS=30000\`, \`RETRY_BUDGET_PERCENT=50\`, \`MAX_ATTEMPTS=3\`). The health interval, fast interval and snapshot TTL are the defaults (10 s, 2 s, 10 s) scaled down 10× so the run is quick: with the defaults, the probe path and re-admission take about 10× as long (a down origin is probed every fast interval, so its verdict comes 2 × 2 s after it answers again, plus up to one 10 s TTL; the goal's bound is 10 s × 2 = 20 s); the passive path (ejection after 5 failed client requests, reported at most once per second) does not scale with them. \`SLOW_START_MS=0\` so a recovered origin takes all its clients back at once (the default 30 s ramp spreads their return over 30 s by design).
- HAProxy (\`retries 3\` + \`option redispatch\`, checks \`${HAPROXY_CHECK}\`):

\`\`\`
${configExcerpt(configs.haproxy.health, /^\s*(timeout|retries|option|balance|hash-type|server )/)}
\`\`\`

- nginx (defaults \`max_fails=1 fail_timeout=10s\`, \`proxy_next_upstream error timeout\`; open-source nginx has no active checks):

\`\`\`
${configExcerpt(configs.nginx.health, /^\s*(hash|server 127|proxy_read_timeout|proxy_next)/)}
\`\`\`

"Tried the victim" is read from each proxy's answer: ours \`X-LB-Attempts\` > 1 (\`DEBUG_HEADERS=true\`), HAProxy \`%rc\` (retries) ≠ 0 in a response header, nginx \`$upstream_addr\` in a response header containing the victim's address; an answer from the victim itself counts as tried, and a failed request counts as tried.

## a. The primary refuses connections

${table(["proxy", "requests", "up: median", "up: p99", "refused: median", "refused: p99", "added: median", "added: p99", "tried the dead primary", "answers while refused"], latencyRows("refused"))}

${SIZES.latencyN.toLocaleString("en")} GETs from the victim clients at ${SIZES.rate}/s with \`${VICTIM}\` up, then the same with \`${VICTIM}\` closed. Added = refused − up, at the median and at p99 (each quantile minus the same quantile with the primary up); the goal tables below count a second added when either is ≥ 1 s.

## b. The primary black-holes

${table(["proxy", "requests", "up: median", "up: p99", "black-holed: median", "black-holed: p99", "added: median", "added: p99", "connections the black hole accepted / requests", "answers while black-holed"], latencyRows("blackhole"))}

A listener on \`${VICTIM}\`'s port accepts every connection and never answers; ${SIZES.blackholeN.toLocaleString("en")} GETs from the victim clients at ${SIZES.blackholeRate}/s. Every proxy waits its per-try timeout (${TRY_TIMEOUT_MS} ms) for the response headers. Ours and nginx then retry the next origin; HAProxy's \`retries\` covers failed connections only (\`retry-on\` defaults to \`conn-failure\`), so it answers 504.

## c. From death to the first request that no longer tries it

${table(["proxy", "cycle", "first request not trying it (after death)", "last request that tried it", "victim requests that tried it / sent while dead", "tried after the first that did not", "worst added latency", "p99 added", "requests +≥ 1 s", "errors (all clients)"], detectRows)}

Times are when the request was sent, after the victim's death. Ours learns from its clients first: an isolate reports failures at once and then at most every \`REPORT_INTERVAL_MS\` (1 s), so the fifth consecutive failure (\`EJECT_AFTER_FAILURES\`) reaches the Durable Object with the second report, about a second after the death whatever the traffic, and the reporting isolate refreshes its table at once; the probes (\`HEALTH_FALL\` 3 × 1 s) mark it down later. Added latency is against the median of the victim clients' requests in the 3 s before the death. Errors count every client's failed requests sent from 1 s before the death until the recovery.

What the proxies reported about \`${VICTIM}\` meanwhile, each change with its time (ours: \`/__lb/status\`, polled every 100 ms: the Durable Object's last probe result, and the serving isolate's view of health, ejection and traffic share; HAProxy: \`show stat\`, "UP 2/3" = up, one failed check of the three that take it down):

${timeline || "- (none)"}

## d. From recovery to the return of its clients

${table(["proxy", "cycle", "first victim client served by it again", "all its clients back", "expected bound", "within the bound", "errors (all clients)"], readmitRows)}

Expected bounds from each proxy's settings: ours probe interval × rise = ${PROBE_INTERVAL_MS} ms × ${RISE} (the goal's bound). A down origin is probed every \`HEALTH_FAST_INTERVAL_MS\` (${OURS_HEALTH.HEALTH_FAST_INTERVAL_MS} ms), so the Durable Object's verdict comes at most ${RISE} × ${OURS_HEALTH.HEALTH_FAST_INTERVAL_MS} ms after the origin answers again; the isolates route on it from their next snapshot refresh, up to \`SNAPSHOT_TTL_MS\` (${OURS_HEALTH.SNAPSHOT_TTL_MS} ms) later, so ours takes up to ${ms(RISE * Number(OURS_HEALTH.HEALTH_FAST_INTERVAL_MS) + Number(OURS_HEALTH.SNAPSHOT_TTL_MS))} (with the defaults: 4 s + 10 s); HAProxy \`inter\` × \`rise\` = 2 s × 2; nginx \`fail_timeout\` = 10 s (it tries a failed server again with one client request once \`fail_timeout\` has passed since the last failure).

## Goals

Goal (issue 5): no client error, no added second, re-admission within the probe interval × rise.

${table(
  ["goal", "met", "detail"],
  goals.map((g) => [g.goal, yes(g.met), g.detail]),
)}

The same tests applied to each proxy (re-admission against our bound, ${PROBE_INTERVAL_MS} ms × ${RISE}):

${table(["proxy", "no client error", "refused: added < 1 s", "black-holed: added ≤ per-try timeout, no error", "learning: worst added < 1 s", `re-admission ≤ ${ms(PROBE_INTERVAL_MS * RISE)}`], peerRows)}

${readmitNote}A black-holed primary costs our balancer exactly one per-try timeout per request until it is ejected (5 timed-out requests; the probes fail too after \`HEALTH_TIMEOUT_MS\`), which is the bound issue 5 sets for this case: a black hole cannot be told from a slow answer before the timeout fires. "No added second" would hold here only with \`TRY_TIMEOUT_MS\` below 1 s, which would cut off slow but healthy answers; with the default 10 s each such request waits 10 s until the origin is ejected.
${notes.length > 0 ? "\n" + notes.join("\n\n") + "\n" : ""}${peersMeasured ? "" : "\nOnly the proxies listed were measured.\n"}`;

const outDir = args.out;
await writeReport("failover.md", markdown, outDir);
await writeJson(
  "failover.json",
  {
    machine: machine(),
    haproxy: version("haproxy", "-v"),
    nginx: version("nginx", "-v"),
    command,
    quick: QUICK,
    seed: SEED,
    tryTimeoutMs: TRY_TIMEOUT_MS,
    settings: {
      oursNoLearning: OURS_NO_LEARNING,
      oursHealth: OURS_HEALTH,
      haproxy: configs.haproxy,
      nginx: configs.nginx,
      loadRatePerProxy: LOAD_RATE,
      deadMs: SIZES.deadMs,
      cycles: SIZES.cycles,
    },
    latency: latency.map((l) => ({
      proxy: l.name,
      requests: l.requests,
      upMedianMs: round1(l.upMedian),
      upP99Ms: round1(l.upP99),
      refusedMedianMs: round1(l.refusedMedian),
      refusedP99Ms: round1(l.refusedP99),
      refusedAddedMedianMs: round1(addedMedian(l, "refused")),
      refusedAddedP99Ms: round1(addedP99(l, "refused")),
      refusedTriedDeadPrimary: l.refusedTried,
      refusedErrors: l.refusedErrors,
      blackholeRequests: l.blackholeRequests,
      blackholeMedianMs: round1(l.blackholeMedian),
      blackholeP99Ms: round1(l.blackholeP99),
      blackholeAddedMedianMs: round1(addedMedian(l, "blackhole")),
      blackholeAddedP99Ms: round1(addedP99(l, "blackhole")),
      blackholeConnections: l.blackholeConnections,
      blackholeErrors: l.blackholeErrors,
    })),
    deathAndRecovery: health.map((h) => ({
      proxy: h.name,
      victimClients: h.victims,
      readmitBoundMs: readmitBound(h.kind),
      cycles: h.cycles.map((c) => ({
        detectMs: round1(c.detectMs),
        lastTriedMs: round1(c.lastTriedMs),
        triedRequests: c.triedRequests,
        deadRequests: c.deadRequests,
        triedAfterDetect: c.triedAfterDetect,
        baselineMedianMs: round1(c.baselineMedian),
        maxAddedMs: round1(c.maxAddedMs),
        p99AddedMs: round1(c.p99AddedMs),
        requestsAddedOverOneSecond: c.slowRequests,
        errorsWhileDead: c.errorsDead,
        readmitMs: round1(c.readmitMs),
        allBackMs: round1(c.allBackMs),
        errorsAfterRecovery: c.errorsRecovery,
        events: c.events,
      })),
    })),
    verdicts: Object.fromEntries(latency.map((l) => [l.name, verdict(l.name)])),
    goals,
    notes,
  },
  outDir,
);
log(`wrote failover.json to ${outDir}`);
process.exit(0);
