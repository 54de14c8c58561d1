/** scale-model.md: the calls into the Durable Object per case, under client traffic, snapshots and probes. */
import { MAX_ORIGINS } from "../../src/core/config/origins.ts";
import { table } from "../lib/markdown.ts";
import { fmt, pctOf, type scaleFigures } from "./figures.ts";
import {
  ASSUMED_ISOLATES,
  CONNECTIONS,
  D,
  DO_RTT_S,
  PROBE_LATENCY_S,
  SOFT_LIMIT,
  type probes,
  type ScaleInputs,
} from "./model.ts";

export type ScaleFigures = ReturnType<typeof scaleFigures>;

/** The calls into the Durable Object, one row per case. */
export function caseTable(inputs: ScaleInputs, { cases }: ScaleFigures) {
  const caseRows = cases.map((c) => [
    `${c.isolatesPerLocation} × ${inputs.locations} = ${fmt(c.isolates)}`,
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
  return { head: caseHead, rows: caseRows };
}

/** The client-traffic sweep: what grows with traffic and what does not. */
export function trafficTable({ trafficRows }: ScaleFigures) {
  return {
    head: ["client req/s", "refreshes/s", "one origin dies: extra calls", "its busiest second, extra calls"],
    rows: trafficRows.map((r) => [fmt(r.rps), fmt(r.refreshes), fmt(r.extra), fmt(r.firstSecond)]),
  };
}

export function scaleReport(inputs: ScaleInputs, figures: ScaleFigures): string {
  const { probe, probeDegraded, defaults, bytes } = figures;
  const cases = caseTable(inputs, figures);
  const traffic = trafficTable(figures);
  return `# Scale model: the Durable Object's request rate

Derived by \`scripts/scale-model.ts\` from the code's refresh, report and probe logic, with the settings' defaults from
\`src/core/config/settings.ts\` (SNAPSHOT_TTL_MS ${fmt(D.ttlMs)}, REPORT_INTERVAL_MS ${fmt(D.reportIntervalMs)}, HEALTH_INTERVAL_MS
${fmt(D.healthIntervalMs)}, HEALTH_TIMEOUT_MS ${fmt(D.healthTimeoutMs)}, EJECT_AFTER_FAILURES ${D.ejectAfter}). A model,
not a measurement. Inputs: ${fmt(inputs.locations)} locations, ${fmt(inputs.origins)} origins (the most one deployment may hold:
${fmt(MAX_ORIGINS)}), ${fmt(inputs.rps)} client requests/s spread evenly; one Durable Object's soft limit ≈ ${fmt(SOFT_LIMIT)}
calls/s. Cloudflare does not publish how many isolates serve a location, so the model runs a few counts; the README
assumes ${ASSUMED_ISOLATES}.

## Calls into the Durable Object

${table(cases.head, cases.rows)}

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

${table(traffic.head, traffic.rows)}

Refreshes do not grow with traffic; the failure burst does, until every isolate meets the dead origin within a second.

## Snapshot transfer

A refresh answer carries the origin list only when the isolate's epoch is stale: ${fmt(bytes.list / 1024)} KB for
${fmt(inputs.origins)} origins (${fmt(bytes.list / inputs.origins)} bytes each, with health; V8 serialization, as JS RPC sends it,
about the same as JSON). A membership or weight change adds the slot layout: ${fmt(bytes.layout / 1024)} KB. After each
epoch change every isolate fetches the list once within a TTL: ${fmt((bytes.list * defaults.isolates) / 1024 / 1024)} MB
out of the object at ${ASSUMED_ISOLATES} isolates per location (${fmt(((bytes.list + bytes.layout) * defaults.isolates) / 1024 / 1024)} MB
with the layout), ${fmt((bytes.list * defaults.refreshes) / 1024 / 1024, 1)} MB/s if the epoch changed every TTL.
That is without the location cache; with it, about once per location: ${fmt((bytes.list * inputs.locations) / 1024 / 1024)} MB
(${fmt(((bytes.list + bytes.layout) * inputs.locations) / 1024 / 1024)} MB with the layout), and the other isolates read it from
their location's cache. Unchanged epochs: a few bytes per refresh.

## Probes

${table(
  ["case", "round duration", "round starts every", "probes/s (outgoing)", "calls into the object/s"],
  [
    [`${fmt(inputs.origins)} healthy origins at ${PROBE_LATENCY_S * 1000} ms`, probe, "(alarm + cron)"],
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
}
