/**
 * `node scripts/scale-model.ts`: the Durable Object's request rate as a function of locations,
 * isolates per location, snapshot TTL, client traffic and origins (issue 5, "Measure" item 5),
 * derived from what the code does, with the settings' defaults imported from src/core/config.ts:
 *
 * - refreshes (src/worker/routing-cache.ts): an isolate refreshes on the first request after its
 *   table is SNAPSHOT_TTL_MS old, one at a time. With the location cache (src/worker/location-cache.ts,
 *   LOCATION_CACHE, on by default for TTLs of 2 s and more) it asks the location first: only the
 *   first isolate after the location's head (TTL / 2) expired calls `getUpdate`, plus those that
 *   miss it during that call. Without it, every isolate calls: 1 / (TTL + mean wait for a request);
 * - reports (src/worker/health-reporter.ts): an isolate sends `report` only after a failure, at most
 *   once per REPORT_INTERVAL_MS, with the epoch it holds; the answer of a report that ejected
 *   carries the update, so the reporter routes around the dead origin without a second call. With
 *   the location cache, an isolate first checks its location: if another isolate there already
 *   brought the news, it catches up from the cache and does not report the dead origin;
 * - probes (src/worker/ring-store.ts): the alarm re-arms HEALTH_INTERVAL_MS ahead, then runs a round;
 *   a round still running when the next alarm fires is not overlapped (that alarm is skipped), so
 *   rounds start every max(interval, round duration rounded up to intervals); a round fetches every origin, 6 at a time (the
 *   platform's simultaneous-connection limit, DESIGN.md); the cron asks for a round once a minute.
 *
 * A model, not a measurement: it prints tables and writes scale-model.md and scale-model.json.
 *
 *   node scripts/scale-model.ts [--locations 300] [--origins 1000] [--rps 1000000]
 *     [--isolates 1,5,20,50] [--ttls 10000,30000,60000] [--quick] [--out DIR]
 */
import { parseArgs } from "node:util";
import v8 from "node:v8";
import { INTEGER_SETTINGS } from "../src/core/config/settings.ts";
import { MAX_ORIGINS } from "../src/core/config/origins.ts";
import { UNKNOWN_HEALTH, type OriginRecord } from "../src/core/model.ts";
import { freshLayout } from "../src/core/ring/slot-ring.ts";
import { BENCH_DIR, table, writeJson, writeReport } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    locations: { type: "string", default: "300" },
    origins: { type: "string", default: "1000" },
    rps: { type: "string", default: "1000000" },
    isolates: { type: "string", default: "1,5,20,50" },
    ttls: { type: "string", default: "" },
    quick: { type: "boolean", default: false }, // accepted for `npm run bench -- --quick`: the model is instant
    out: { type: "string", default: BENCH_DIR },
  },
});

const fallback = (name: string) => {
  const setting = INTEGER_SETTINGS.find((s) => s.name === name);
  if (setting === undefined) throw new Error(`no setting ${name} in src/core/config.ts`);
  return setting.fallback;
};
const D = {
  ttlMs: fallback("SNAPSHOT_TTL_MS"),
  reportIntervalMs: fallback("REPORT_INTERVAL_MS"),
  healthIntervalMs: fallback("HEALTH_INTERVAL_MS"),
  healthFastIntervalMs: fallback("HEALTH_FAST_INTERVAL_MS"),
  healthTimeoutMs: fallback("HEALTH_TIMEOUT_MS"),
  healthFall: fallback("HEALTH_FALL"),
  ejectAfter: fallback("EJECT_AFTER_FAILURES"),
  ejectBaseMs: fallback("EJECT_BASE_MS"),
};
/** wrangler.toml's cron, `* * * * *`. */
const CRON_PERIOD_S = 60;
/** Cloudflare: one Durable Object serves about 1,000 requests/s before "overloaded" errors (DESIGN.md). */
const SOFT_LIMIT = 1000;
/** Cloudflare: 6 simultaneous outgoing connections per invocation; more fetches wait (DESIGN.md). */
const CONNECTIONS = 6;
/** Assumed time for a healthy origin to answer a probe, as in the README's scale table. */
const PROBE_LATENCY_S = 0.05;
/**
 * Assumed round trip of a Durable Object call from a location far from the object (it lives in
 * one place): how long a location goes on reporting a death after its first report was sent.
 */
const DO_RTT_S = 0.2;
/** The README's assumption for the headline figure: isolates per location are not published. */
const ASSUMED_ISOLATES = 20;

const LOCATIONS = Number(args.locations);
const ORIGINS = Number(args.origins);
const RPS = Number(args.rps);
const ISOLATES = args.isolates.split(",").map(Number);
const TTLS_MS = args.ttls === "" ? [D.ttlMs, 30_000, 60_000] : args.ttls.split(",").map(Number);
if (![LOCATIONS, ORIGINS, RPS, ...ISOLATES, ...TTLS_MS].every((n) => Number.isFinite(n) && n > 0)) {
  throw new RangeError("every option must be a positive number");
}
if (!ISOLATES.includes(ASSUMED_ISOLATES)) ISOLATES.push(ASSUMED_ISOLATES);
ISOLATES.sort((a, b) => a - b);

/** Refresh calls/s of one isolate serving `rate` requests/s (Poisson): one per TTL + wait for the next request. */
const refreshRate = (ttlS: number, rate: number) => 1 / (ttlS + 1 / rate);

/** The location's head lives TTL / 2 in whole seconds; under 1 s the location cache is off (location-cache.ts). */
const headSeconds = (ttlS: number) => Math.floor(ttlS / 2);

/**
 * Refresh calls/s of one location of `k` isolates with the location cache: after the head expires,
 * the next isolate refresh (k per TTL, uniform phases: TTL / k later on average) calls the object,
 * and so does every isolate refreshing while that call is in flight (k × RTT / TTL).
 */
const locationRefreshRate = (k: number, ttlS: number, rate: number) =>
  (1 + (k * DO_RTT_S) / ttlS) / (headSeconds(ttlS) + ttlS / k + 1 / rate);

/**
 * One origin of `origins` dies. After the first few reports eject it (EJECT_AFTER_FAILURES failures
 * edge-wide: milliseconds at this traffic), an isolate that sends it a request before it knows
 * reports once, and the answer brings the update: one call. Requests reach the dead origin as
 * Poisson arrivals at λ per isolate.
 * - Without the location cache, an isolate knows from its own next refresh (phases uniform over
 *   the TTL): it reports at t with density λ e^(−λt) (1 − t/TTL).
 * - With it, a location knows once its first reporter's answer is back (RTT after it was sent):
 *   the first of its k isolates meets the dead origin at rate kλ, the other k − 1 report only if
 *   they meet it within that RTT; the rest catch up from the location without a call.
 */
function failureBurst(isolates: number, ttlS: number, rps = RPS, cached = headSeconds(ttlS) >= 1) {
  const lambda = rps / isolates / ORIGINS;
  const bound = isolates / (D.reportIntervalMs / 1000); // every isolate reporting once per interval
  // The dead origin is unsettled: probed every HEALTH_FAST_INTERVAL_MS by a round of its own.
  const fastRounds = 1000 / Math.min(D.healthFastIntervalMs, D.healthIntervalMs);
  if (cached) {
    const k = isolates / LOCATIONS;
    const perLocation = 1 + (k - 1) * (1 - Math.exp(-lambda * DO_RTT_S));
    const reports = LOCATIONS * (1 - Math.exp(-k * lambda * ttlS)) * perLocation;
    const firstSecond = LOCATIONS * (1 - Math.exp(-k * lambda * Math.min(1, ttlS))) * perLocation;
    return { lambda, reports, extraCalls: reports, busiestSecond: firstSecond + fastRounds, bound, cached };
  }
  const density = (t: number) => (t >= ttlS ? 0 : isolates * lambda * Math.exp(-lambda * t) * (1 - t / ttlS));
  const integrate = (a: number, b: number) => {
    const steps = 2000;
    const h = (b - a) / steps;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += density(a + (i + 0.5) * h) * h;
    return sum;
  };
  const reports = integrate(0, ttlS);
  // The density only falls, so the first second is the busiest.
  return {
    lambda,
    reports,
    extraCalls: reports,
    busiestSecond: integrate(0, Math.min(1, ttlS)) + fastRounds,
    bound,
    cached,
  };
}

/**
 * Alarm-driven probe rounds: the alarm re-arms before its round, so rounds start every interval,
 * except that an alarm firing while a round still runs is skipped (the next one is an interval later).
 */
function probes(origins: number, blackholed = 0) {
  const duration = ((origins - blackholed) * PROBE_LATENCY_S + blackholed * (D.healthTimeoutMs / 1000)) / CONNECTIONS;
  const interval = D.healthIntervalMs / 1000;
  const period = interval * Math.max(1, Math.ceil(duration / interval));
  return { duration, period, probesPerS: origins / period, callsPerS: 1 / period + 1 / CRON_PERIOD_S };
}

/**
 * Bytes of a refresh answer, V8-serialized as JS RPC sends it, with realistic ids, URLs and health:
 * the origin list (sent when the isolate's epoch is stale) and the slot layout (only when the
 * membership or weights changed: the object keeps it and ships it then).
 */
function snapshotBytes(origins: number): { list: number; layout: number } {
  const list: OriginRecord[] = Array.from({ length: origins }, (_, i) => ({
    id: `origin-${String(i).padStart(4, "0")}`,
    url: `https://origin-${String(i).padStart(4, "0")}.eu-west.example.com`,
    weight: 1,
    region: "eu-west",
    state: "active",
    drainStartedAt: null,
    health: { ...UNKNOWN_HEALTH, status: "up", recoveredAt: 1_790_000_000_000 },
  }));
  const slots = fallback("RING_SLOTS_PER_ORIGIN");
  const layout = freshLayout(
    list.map((o) => ({ id: o.id, weight: o.weight })),
    slots,
  );
  const update = { epoch: 123_456, origins: list, layoutEpoch: 7, layout: null, bootstrapErrors: [] };
  return {
    list: v8.serialize(update).length,
    layout: v8.serialize({ ...update, layout }).length - v8.serialize(update).length,
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits });
const pctOf = (n: number) => `${fmt((n / SOFT_LIMIT) * 100)} %`;
const probe = probes(ORIGINS);
const probeDegraded = probes(ORIGINS, 10);

interface Case {
  isolatesPerLocation: number;
  ttlS: number;
  isolates: number;
  requestsPerIsolate: number;
  refreshes: number;
  steady: number;
  burst: ReturnType<typeof failureBurst>;
  peak: number;
  /** The same without the location cache (LOCATION_CACHE=false, or a TTL under 2 s). */
  uncachedSteady: number;
  uncachedPeak: number;
}
const cases: Case[] = [];
for (const perLocation of ISOLATES) {
  for (const ttlMs of TTLS_MS) {
    const isolates = LOCATIONS * perLocation;
    const ttlS = ttlMs / 1000;
    const rate = RPS / isolates;
    const cached = headSeconds(ttlS) >= 1;
    const uncachedRefreshes = isolates * refreshRate(ttlS, rate);
    const refreshes = cached ? LOCATIONS * locationRefreshRate(perLocation, ttlS, rate) : uncachedRefreshes;
    const steady = refreshes + probe.callsPerS;
    const burst = failureBurst(isolates, ttlS);
    const uncachedSteady = uncachedRefreshes + probe.callsPerS;
    cases.push({
      uncachedSteady,
      uncachedPeak: uncachedSteady + failureBurst(isolates, ttlS, RPS, false).busiestSecond,
      isolatesPerLocation: perLocation,
      ttlS,
      isolates,
      requestsPerIsolate: rate,
      refreshes,
      steady,
      burst,
      peak: steady + burst.busiestSecond,
    });
  }
}

const caseRows = cases.map((c) => [
  `${c.isolatesPerLocation} × ${LOCATIONS} = ${fmt(c.isolates)}`,
  `${c.ttlS} s${c.ttlS * 1000 === D.ttlMs ? " (default)" : ""}`,
  fmt(c.requestsPerIsolate),
  fmt(c.refreshes),
  fmt(c.steady),
  pctOf(c.steady),
  fmt(c.burst.extraCalls),
  fmt(c.peak),
  pctOf(c.peak),
  `${fmt(c.uncachedSteady)} / ${fmt(c.uncachedPeak)}`,
]);
const caseHead = [
  "isolates (per location × locations)",
  "SNAPSHOT_TTL_MS",
  "req/s per isolate",
  "refreshes/s",
  "steady calls/s",
  "of the soft limit",
  "one origin dies: extra calls",
  "busiest second, calls",
  "of the soft limit",
  "without the location cache: steady / busiest",
];

// Client traffic: what grows with it and what does not (assumed isolates, default TTL).
const trafficRows = [RPS / 10, RPS, RPS * 10].map((rps) => {
  const isolates = LOCATIONS * ASSUMED_ISOLATES;
  const ttlS = D.ttlMs / 1000;
  const refreshes = LOCATIONS * locationRefreshRate(ASSUMED_ISOLATES, ttlS, rps / isolates);
  const burst = failureBurst(isolates, ttlS, rps);
  return { rps, refreshes, extra: burst.extraCalls, firstSecond: burst.busiestSecond };
});

const bytes = snapshotBytes(ORIGINS);
const defaults = cases.find((c) => c.isolatesPerLocation === ASSUMED_ISOLATES && c.ttlS * 1000 === D.ttlMs)!;
const lowTraffic = trafficRows[0]!.refreshes;
const highTraffic = trafficRows[2]!.refreshes;
const goals = [
  {
    goal: "steady-state Durable Object load independent of client traffic",
    // 100× the traffic may change it only through the wait for an isolate's next request: under 2 %.
    met: Math.abs(highTraffic / lowTraffic - 1) < 0.02,
    detail: `${fmt(lowTraffic, 1)} refreshes/s at ${fmt(RPS / 10)} req/s, ${fmt(highTraffic, 1)} at ${fmt(RPS * 10)} req/s (${ASSUMED_ISOLATES} isolates per location, TTL ${D.ttlMs / 1000} s)`,
  },
  {
    goal: `steady state under one Durable Object's ~${fmt(SOFT_LIMIT)} calls/s at the defaults (${ASSUMED_ISOLATES} isolates per location assumed)`,
    met: defaults.steady < SOFT_LIMIT,
    detail: `${fmt(defaults.steady)} calls/s = ${pctOf(defaults.steady)} of the soft limit; at TTL 30 s: ${fmt(cases.find((c) => c.isolatesPerLocation === ASSUMED_ISOLATES && c.ttlS === 30)?.steady ?? NaN)}`,
  },
  {
    goal: `one origin's death stays under the soft limit at the defaults (${ASSUMED_ISOLATES} isolates per location assumed)`,
    met: defaults.peak < SOFT_LIMIT,
    detail: `busiest second ${fmt(defaults.peak)} calls (${fmt(defaults.steady)} refreshes and probes + ${fmt(defaults.burst.busiestSecond)} reports and fast probe rounds, with the location cache; without it ${fmt(defaults.uncachedPeak)}); ${fmt(defaults.burst.extraCalls)} extra calls in all`,
  },
];

const markdown = `# Scale model: the Durable Object's request rate

Derived by \`scripts/scale-model.ts\` from the code's refresh, report and probe logic, with the settings' defaults from
\`src/core/config.ts\` (SNAPSHOT_TTL_MS ${fmt(D.ttlMs)}, REPORT_INTERVAL_MS ${fmt(D.reportIntervalMs)}, HEALTH_INTERVAL_MS
${fmt(D.healthIntervalMs)}, HEALTH_TIMEOUT_MS ${fmt(D.healthTimeoutMs)}, EJECT_AFTER_FAILURES ${D.ejectAfter}). A model,
not a measurement. Inputs: ${fmt(LOCATIONS)} locations, ${fmt(ORIGINS)} origins (the most one deployment may hold:
${fmt(MAX_ORIGINS)}), ${fmt(RPS)} client requests/s spread evenly; one Durable Object's soft limit ≈ ${fmt(SOFT_LIMIT)}
calls/s. Cloudflare does not publish how many isolates serve a location, so the model runs a few counts; the README
assumes ${ASSUMED_ISOLATES}.

## Calls into the Durable Object

${table(caseHead, caseRows)}

- **refreshes/s**, with the location cache (on by default; its head lives TTL / 2, so it needs a TTL of 2 s or
  more) = locations × (1 + k × RTT / TTL) / (TTL / 2 + TTL / k + 1 / requests per isolate), k isolates per
  location: after the location's head expires, the next isolate refresh (TTL / k later on average) calls the
  object, and so does every isolate refreshing while that call is in flight (RTT assumed ${DO_RTT_S * 1000} ms).
  Without it (last column): isolates × 1 / (TTL + 1 / requests per isolate). Client traffic only enters
  through the wait for a request, which is negligible here.
- **steady calls/s** adds the probe rounds: the alarm (one call per round, every ${fmt(probe.period, 1)} s, see below) and
  the cron (one call a minute) — ${fmt(probe.callsPerS, 2)} calls/s. Reports: none while all is well.
- **one origin dies**: the first ${D.ejectAfter} failures edge-wide eject it (milliseconds at this traffic). An isolate
  that meets the dead origin before it knows reports once, with the epoch it holds; the answer carries the update,
  so that is one call. With the location cache the first reporter of a location shares the update there, and the
  location's other isolates, which check it before they report, catch up without a call: a location reports
  about 1 + (k − 1)(1 − e^(−λ RTT)) times, λ = the dead origin's requests per isolate per second. Without it,
  every isolate that meets the dead origin before its own TTL refresh reports. The busiest second adds the
  dead origin's fast probe rounds (one per HEALTH_FAST_INTERVAL_MS). The bound, if every isolate met it at once
  before any answer came back, is isolates / REPORT_INTERVAL_MS (${fmt(defaults.burst.bound)} calls/s at
  ${ASSUMED_ISOLATES} isolates per location). Reports and refreshes that fail are dropped and routing never waits on
  them: an overloaded object delays the news, not traffic.

## Client traffic (${ASSUMED_ISOLATES} isolates per location, TTL ${D.ttlMs / 1000} s)

${table(
  ["client req/s", "refreshes/s", "one origin dies: extra calls", "its busiest second, extra calls"],
  trafficRows.map((r) => [fmt(r.rps), fmt(r.refreshes), fmt(r.extra), fmt(r.firstSecond)]),
)}

Refreshes do not grow with traffic; the failure burst does, until every isolate meets the dead origin within a second.

## Snapshot transfer

A refresh answer carries the origin list only when the isolate's epoch is stale: ${fmt(bytes.list / 1024)} KB for
${fmt(ORIGINS)} origins (${fmt(bytes.list / ORIGINS)} bytes each, with health; V8 serialization, as JS RPC sends it,
about the same as JSON). A membership or weight change adds the slot layout: ${fmt(bytes.layout / 1024)} KB. After each
epoch change every isolate fetches the list once within a TTL: ${fmt((bytes.list * defaults.isolates) / 1024 / 1024)} MB
out of the object at ${ASSUMED_ISOLATES} isolates per location (${fmt(((bytes.list + bytes.layout) * defaults.isolates) / 1024 / 1024)} MB
with the layout), ${fmt((bytes.list * defaults.refreshes) / 1024 / 1024, 1)} MB/s if the epoch changed every TTL.
That is without the location cache; with it, about once per location: ${fmt((bytes.list * LOCATIONS) / 1024 / 1024)} MB
(${fmt(((bytes.list + bytes.layout) * LOCATIONS) / 1024 / 1024)} MB with the layout), and the other isolates read it from
their location's cache. Unchanged epochs: a few bytes per refresh.

## Probes

${table(
  ["case", "round duration", "round starts every", "probes/s (outgoing)", "calls into the object/s"],
  [
    [`${fmt(ORIGINS)} healthy origins at ${PROBE_LATENCY_S * 1000} ms`, probe, "(alarm + cron)"],
    [`10 of them black-holed (HEALTH_TIMEOUT_MS each)`, probeDegraded, ""],
  ].map(([label, p, note]) => {
    const r = p as ReturnType<typeof probes>;
    return [
      label as string,
      `${fmt(r.duration, 1)} s`,
      `${fmt(r.period, 1)} s`,
      fmt(r.probesPerS),
      `${fmt(r.callsPerS, 2)} ${note}`.trim(),
    ];
  }),
)}

A round fetches every origin, ${CONNECTIONS} at a time (the platform's limit per invocation), so it lasts origins ×
latency / ${CONNECTIONS}; the alarm re-arms HEALTH_INTERVAL_MS ahead before its round runs, so rounds start every
interval while a round fits in it (an alarm that fires during a longer round is skipped), and a probe verdict (fall
${D.healthFall}) takes ${D.healthFall} × that period. The cron adds at
most one round a minute (a round less than half an interval after the last is skipped).
`;

await writeReport("scale-model.md", markdown, args.out);
await writeJson(
  "scale-model.json",
  {
    machine: "a model: no machine dependence",
    command: ["node scripts/scale-model.ts", ...process.argv.slice(2)].join(" "),
    quick: args.quick,
    goals,
    inputs: { locations: LOCATIONS, origins: ORIGINS, rps: RPS, softLimit: SOFT_LIMIT, settings: D },
    cases: cases.map((c) => ({ ...c, burst: { ...c.burst } })),
    probes: { healthy: probe, tenBlackholed: probeDegraded },
    answerBytes: bytes,
    tables: [
      { title: "Calls into the Durable Object", head: caseHead, rows: caseRows },
      {
        title: `Client traffic (${ASSUMED_ISOLATES} isolates per location, TTL ${D.ttlMs / 1000} s)`,
        head: ["client req/s", "refreshes/s", "one origin dies: extra calls", "its busiest second, extra calls"],
        rows: trafficRows.map((r) => [fmt(r.rps), fmt(r.refreshes), fmt(r.extra), fmt(r.firstSecond)]),
      },
    ],
  },
  args.out,
);
for (const g of goals) console.log(`${g.met ? "met   " : "MISSED"} ${g.goal}: ${g.detail}`);
