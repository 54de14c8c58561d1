/** skew.md: the workload, what each proxy did with it, the Durable Object's calls, and issue 12's goals. */
import { machineLine, toolVersion } from "../lib/machine.ts";
import { goalTable, table } from "../lib/markdown.ts";
import type { FigureTable, Goal } from "../lib/part-result.ts";
import { callsPerSecond, pct, type CallWindow, type SkewFigures } from "./figures.ts";
import { USER_AGENTS, type Workload } from "./workload.ts";

/** What a run sent through the proxies and what they did with it. */
export interface SkewRun {
  readonly command: string;
  readonly quick: boolean;
  readonly workload: Workload;
  readonly ids: readonly string[];
  readonly concurrency: number;
  readonly delayMs: number;
  readonly learnSeconds: number;
  readonly requests: number;
  readonly quietSeconds: number;
  readonly quietRate: number;
  readonly results: readonly SkewFigures[];
  readonly calls: readonly CallWindow[];
  readonly notes: readonly string[];
}

const p2 = (x: number) => `${x.toFixed(2)} %`;
const fmt = (n: number) => n.toLocaleString("en");
export const stickyPct = (r: SkewFigures) => pct(r.sticky.sticky, r.sticky.users);
export const offPct = (r: SkewFigures) => pct(r.offModal, r.answered);
export const movedPct = (r: SkewFigures) => pct(r.moved, r.movable);
const errors = (r: SkewFigures) => r.errorsLearning + r.errorsMeasured;

/** The busy windows (learning, measured) against the quiet one: calls/s, with one call's slack for the short quiet window. */
export function doTraffic(calls: readonly CallWindow[]) {
  const busy = calls.filter((w) => w.window !== "quiet");
  const quiet = calls.find((w) => w.window === "quiet");
  if (busy.length === 0 || quiet === undefined) return null;
  const total = (f: (w: CallWindow) => number) => busy.reduce((a, w) => a + f(w), 0);
  const busySeconds = total((w) => w.seconds);
  const busyCalls = total((w) => w.getUpdate + w.report);
  const busyRps = total((w) => w.requests) / busySeconds;
  const quietRps = quiet.requests / quiet.seconds;
  const bound = (1.5 * (quiet.getUpdate + quiet.report + 1)) / quiet.seconds;
  return { busyCps: busyCalls / busySeconds, quietCps: callsPerSecond(quiet), bound, busyRps, quietRps };
}

/** Issue 12's goals, judged on the balancer (the first result), HAProxy's figures alongside. */
export function skewGoals(run: SkewRun): Goal[] {
  const [ours, ...peers] = run.results;
  if (ours === undefined) return [];
  const others = (f: (r: SkewFigures) => string) => peers.map((p) => `${p.name} ${f(p)}`).join("; ");
  const detail = (own: string, f: (r: SkewFigures) => string) =>
    `ours ${own}${peers.length > 0 ? `; ${others(f)}` : ""}`;
  const goals: Goal[] = [
    {
      goal: "peak/mean request load ≤ 1.25",
      met: ours.peakMean <= 1.25,
      detail: detail(
        `${ours.peakMean.toFixed(3)} (busiest ${run.ids[ours.counts.indexOf(Math.max(...ours.counts))]}, ` +
          `${p2(pct(Math.max(...ours.counts), ours.answered))} of requests; the NAT addresses' users on ` +
          `${ours.natOrigins.join(" / ")} origins)`,
        (r) => r.peakMean.toFixed(3),
      ),
    },
    {
      goal: "≥ 99 % of users (a NAT user by its cookie jar) keep every request on one origin",
      met: stickyPct(ours) >= 99,
      detail: detail(`${p2(stickyPct(ours))} of ${fmt(ours.sticky.users)} users with ≥ 2 measured requests`, (r) =>
        p2(stickyPct(r)),
      ),
    },
    {
      goal: "≤ 1 % of requests leave their user's usual (modal) origin",
      met: offPct(ours) <= 1,
      detail: detail(`${p2(offPct(ours))} of ${fmt(ours.answered)} requests`, (r) => p2(offPct(r))),
    },
    {
      goal: "≤ 5 % of users moved (origin changed at least once from their last learning request on)",
      met: movedPct(ours) <= 5,
      detail: detail(`${p2(movedPct(ours))} of ${fmt(ours.movable)} users`, (r) => p2(movedPct(r))),
    },
    {
      goal: "0 errors",
      met: errors(ours) === 0,
      detail: detail(
        `${errors(ours)} (${ours.errorsLearning} learning, ${ours.errorsMeasured} measured)` +
          (Object.keys(ours.errorKinds).length > 0 ? `: ${JSON.stringify(ours.errorKinds)}` : ""),
        (r) => String(errors(r)),
      ),
    },
  ];
  const t = doTraffic(run.calls);
  goals.push({
    goal: "the Durable Object's steady load independent of client traffic (calls/s under load ≤ 1.5 × the quiet window's, one call of slack)",
    met: t !== null && t.busyCps <= t.bound,
    detail:
      t === null
        ? "not counted: callCounts() unavailable"
        : `${t.busyCps.toFixed(3)} getUpdate + report calls/s at ${t.busyRps.toFixed(0)} req/s vs ${t.quietCps.toFixed(3)} at ` +
          `${t.quietRps.toFixed(1)} req/s (bound ${t.bound.toFixed(3)})`,
  });
  return goals;
}

/** The workload's exact parameters, as a table. */
export function workloadTable(run: SkewRun): FigureTable {
  const { params, kindShare, users } = run.workload;
  const count = (kind: string) => fmt(users.filter((u) => u.kind === kind).length);
  const rows: [string, string][] = [
    ["machine", machineLine()],
    ["seed", String(params.seed)],
    ["origins", `${run.ids.length} (${run.ids.join(", ")}), loopback, each answering after ${run.delayMs} ms`],
    [
      "ordinary users",
      `${fmt(params.users)}: ${count("ipv4")} IPv4, ${count("ipv6")} IPv6 (${p2(params.ipv6Share * 100)} drawn; each in its own /64, a fresh random interface id on every request)`,
    ],
    [
      "request rates",
      `Zipf–Mandelbrot: user of rank r weighs 1 / (r + ${params.zipfOffset})^${params.zipfExponent}; heaviest ordinary user ${p2(users[0]!.share * 100)} of all requests`,
    ],
    [
      "NAT addresses (IPv4)",
      `${params.natShares.map((s) => p2(s * 100)).join(", ")} of all requests, ${params.usersPerNat} users behind each (same Zipf weights within), each user its own cookie jar`,
    ],
    [
      "share of requests",
      `IPv4 users ${p2(kindShare.ipv4 * 100)}, IPv6 users ${p2(kindShare.ipv6 * 100)}, NAT users ${p2(kindShare.nat * 100)}`,
    ],
    [
      "User-Agent",
      `one per user from ${USER_AGENTS.length} browser strings, weighted ${USER_AGENTS.map((u) => u.weight).join("/")}`,
    ],
    ["cookies", "a jar per user and proxy: Set-Cookie stored for the host, Cookie sent back"],
    ["concurrency", `${run.concurrency} requests in flight (closed loop), keep-alive connections`],
    ["learning phase", `${run.learnSeconds} s of the seeded learning stream per proxy (as many requests as fit)`],
    ["measured phase", `the same ${fmt(run.requests)} seeded requests through every proxy`],
    [
      "quiet window (balancer)",
      `${run.quietSeconds} s at ${run.quietRate} req/s after the measured phase, for the object's calls`,
    ],
  ];
  return { title: "Workload", head: ["parameter", "value"], rows };
}

export function resultTable(run: SkewRun): FigureTable {
  const kind = (r: SkewFigures, k: "ipv4" | "ipv6" | "nat") =>
    p2(pct(r.stickyByKind[k].sticky, r.stickyByKind[k].users));
  return {
    title: "Measured phase, per proxy",
    head: [
      "proxy",
      "peak/mean",
      "users on one origin",
      "IPv4 / IPv6 / NAT users on one origin",
      "requests off usual origin",
      "users moved",
      "errors",
      "learning requests",
      "measured req/s",
      "origins used by each NAT's users",
      "requests with a cookie",
    ],
    rows: run.results.map((r) => [
      r.name,
      r.peakMean.toFixed(3),
      p2(stickyPct(r)),
      `${kind(r, "ipv4")} / ${kind(r, "ipv6")} / ${kind(r, "nat")}`,
      p2(offPct(r)),
      p2(movedPct(r)),
      String(errors(r)),
      fmt(r.learningRequests),
      (r.measuredRequests / (r.measuredMs / 1000)).toFixed(0),
      r.natOrigins.join(" / "),
      fmt(r.withCookie),
    ]),
  };
}

export function originTable(run: SkewRun): FigureTable {
  return {
    title: "Measured requests per origin",
    head: ["proxy", ...run.ids],
    rows: run.results.map((r) => [r.name, ...r.counts.map(fmt)]),
  };
}

export function callTable(run: SkewRun): FigureTable {
  return {
    title: "The balancer's ring Durable Object: calls per window",
    head: [
      "window",
      "seconds",
      "requests",
      "req/s",
      "getUpdate",
      "report",
      "probeRound",
      "calls/s",
      "calls per 1,000 requests",
    ],
    rows: run.calls.map((w) => [
      w.window,
      w.seconds.toFixed(1),
      fmt(w.requests),
      (w.requests / w.seconds).toFixed(0),
      String(w.getUpdate),
      String(w.report),
      String(w.probeRound),
      callsPerSecond(w).toFixed(3),
      (((w.getUpdate + w.report) / w.requests) * 1000).toFixed(3),
    ]),
  };
}

export function skewTables(run: SkewRun): FigureTable[] {
  return [resultTable(run), originTable(run), callTable(run), workloadTable(run)];
}

const md = (t: FigureTable) => `### ${t.title}\n\n${table(t.head, t.rows)}\n`;

export function skewReport(run: SkewRun, goals: readonly Goal[]): string {
  return `# Skewed traffic: load and stickiness (issue 12)

Command: \`${run.command}\`${run.quick ? " (**quick run**: small sizes; not the published figures)" : ""}.

Machine: ${machineLine()}; ${toolVersion("haproxy", "-v")}.

One seeded workload through the balancer in workerd (this tree, wrangler.toml's defaults), HAProxy
\`balance hdr(CF-Connecting-IP)\` + \`hash-type consistent\`, and the same with \`hash-balance-factor 125\`
(HAProxy's bound is on in-flight requests, hence ${run.concurrency} in flight and origins with a
${run.delayMs} ms delay), one proxy after another in front of the same origins. Every figure is of the
measured phase: a user counts for "on one origin" when it had at least two answered requests; a
request is off its user's usual origin when another origin than the user's most frequent one
answered it; a user moved when its origin changed at least once from its last learning-phase
request through the measured phase. NAT users are told apart by their own id (their cookie jar),
never by their shared address.

${skewTables(run).map(md).join("\n")}
## Goals

${goalTable(goals)}
${run.notes.length > 0 ? "\n" + run.notes.join("\n\n") + "\n" : ""}`;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** skew.json: the run's parameters and each proxy's figures, as `npm run bench` reads them. */
export function skewResult(run: SkewRun, goals: readonly Goal[]) {
  const { params } = run.workload;
  return {
    machine: machineLine(),
    command: run.command,
    quick: run.quick,
    goals,
    tables: skewTables(run),
    haproxy: toolVersion("haproxy", "-v"),
    workload: { ...params, natAddresses: run.workload.natAddresses },
    origins: run.ids,
    concurrency: run.concurrency,
    delayMs: run.delayMs,
    learnSeconds: run.learnSeconds,
    requests: run.requests,
    proxies: run.results.map((r) => ({
      name: r.name,
      counts: Object.fromEntries(run.ids.map((id, i) => [id, r.counts[i]!])),
      peakMean: round(r.peakMean),
      onOneOriginPercent: round(stickyPct(r)),
      offUsualOriginPercent: round(offPct(r)),
      movedPercent: round(movedPct(r)),
      errors: errors(r),
      errorKinds: r.errorKinds,
      natOrigins: r.natOrigins,
      learningRequests: r.learningRequests,
      measuredSeconds: round(r.measuredMs / 1000, 2),
    })),
    doCalls: run.calls,
    notes: run.notes,
  };
}
