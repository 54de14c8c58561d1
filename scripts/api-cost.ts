/**
 * `npm run api-cost`: what one call into the Workers runtime costs in workerd, for the calls the
 * request path makes on every request (Headers reads and copies, the request's getters, the clock,
 * AbortSignal.timeout, URL parsing). A worker under `wrangler dev` runs each operation N times in a
 * loop inside one request and times the loop with performance.now() (which advances in local
 * workerd); this process also times the whole request from outside. Per call = loop time ÷ N, the
 * median of 5 requests. The request carries what a client's does through wrangler dev (3 fields:
 * accept-encoding, cf-connecting-ip, host), or 15 with --fields 15. Warm loops: these are lower
 * bounds for a call made once per request, which also pays for a cold inline cache. A script, not a
 * test: it asserts nothing. Writes bench/api-cost.md (or --out DIR).
 *
 *   node scripts/api-cost.ts [--fields 3|15] [--out DIR]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup, installExitHandlers, tempDir } from "./lib/cleanup.ts";
import { log } from "./lib/log.ts";
import { machineLine, packageVersion } from "./lib/machine.ts";
import { table } from "./lib/markdown.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { median } from "./lib/stats.ts";
import { startDevServer } from "./profile/dev-server.ts";

const { values: v } = parseArgs({ options: { fields: { type: "string", default: "3" }, out: { type: "string" } } });
const extra = Number(v.fields) - 3;
if (!Number.isInteger(extra) || extra < 0 || extra > 60) throw new Error("--fields takes 3 to 63");
const out = v.out ?? BENCH_DIR;

/** Each operation: its name, what it does, and the loop body (`h` the request's headers, `req` the request). */
const OPS: readonly (readonly [string, string, string])[] = [
  ["loop", "the empty loop (the floor)", "sink += i;"],
  ["headers.forEach", "one forEach over the request's fields with a callback made once", "h.forEach(onField);"],
  ["headers.get (present)", 'get("cf-connecting-ip")', 'sink += (h.get("cf-connecting-ip") ?? "").length;'],
  ["headers.get (absent)", 'get("via")', 'sink += h.get("via") === null ? 1 : 0;'],
  ["headers.has (absent)", 'has("proxy-authenticate")', 'sink += h.has("proxy-authenticate") ? 1 : 0;'],
  ["new Headers(copy)", "a copy of the request's headers", "sink += new Headers(h) ? 1 : 0;"],
  [
    "copy + 2 deletes + 2 sets",
    "the copy the balancer forwards: Host and CF-Connecting-IP deleted, Via and X-Forwarded-For set",
    'const c = new Headers(h); c.delete("host"); c.delete("cf-connecting-ip"); c.set("via", "1.1 lb"); c.set("x-forwarded-for", "192.0.2.1");',
  ],
  ["AbortSignal.timeout", "a per-try timeout signal (never fires here)", "sink += AbortSignal.timeout(30000) ? 1 : 0;"],
  ["Date.now()", "one clock reading", "sink += Date.now() & 1;"],
  ["request.url", "the getter", "sink += req.url.length;"],
  ["request.headers", "the getter", "sink += req.headers ? 1 : 0;"],
  ["request.method", "the getter", "sink += req.method.length;"],
  [
    "new URL + 2 getters",
    "new URL(request.url), pathname and search",
    "const u = new URL(req.url); sink += u.pathname.length + u.search.length;",
  ],
];
// AbortSignal.timeout schedules a timer per call: fewer of them per request.
const N = (name: string) => (name === "AbortSignal.timeout" ? 2_000 : 100_000);

const worker =
  "let sink = 0;\nconst onField = (v, n) => { sink += n.length + v.length; };\n" +
  "export default { async fetch(req) {\n" +
  '  const u = new URL(req.url); const op = Number(u.searchParams.get("op")); const n = Number(u.searchParams.get("n"));\n' +
  "  const h = req.headers; const t0 = performance.now();\n  switch (op) {\n" +
  OPS.map(([, , body], i) => `    case ${i}: for (let i = 0; i < n; i++) { ${body} } break;\n`).join("") +
  "  }\n  return new Response(JSON.stringify({ ms: performance.now() - t0, sink: sink & 1 }));\n} };\n";

installExitHandlers();
try {
  const dir = tempDir("api-cost");
  fs.writeFileSync(path.join(dir, "worker.js"), worker);
  fs.writeFileSync(
    path.join(dir, "wrangler.toml"),
    'name = "api-cost"\nmain = "worker.js"\ncompatibility_date = "2025-06-01"\n',
  );
  const server = await startDevServer({
    config: path.join(dir, "wrangler.toml"),
    script: path.join(dir, "worker.js"),
    cwd: dir,
    persistTo: path.join(dir, "state"),
  });
  const headers: Record<string, string> = { "cf-connecting-ip": "192.0.2.1" };
  for (let i = 0; i < extra; i++) headers[`x-field-${i}`] = `value-${i}`;
  const rows: string[][] = [];
  try {
    for (const [i, [name, what]] of OPS.entries()) {
      const n = N(name);
      const inner: number[] = [];
      const outer: number[] = [];
      for (let r = 0; r < 5; r++) {
        const started = performance.now();
        const res = await fetch(`${server.url}/?op=${i}&n=${n}`, { headers });
        const { ms } = (await res.json()) as { ms: number };
        outer.push(((performance.now() - started) * 1000) / n);
        inner.push((ms * 1000) / n);
      }
      log(`${name}: ${median(inner).toFixed(3)} µs per call`);
      rows.push([name, what, median(inner).toFixed(3), median(outer).toFixed(3)]);
    }
  } finally {
    await server.stop();
  }
  const text = [
    "# What one call into the Workers runtime costs in workerd",
    "",
    `Machine: ${machineLine()}; wrangler ${packageVersion("wrangler")} (workerd ${packageVersion("workerd")}). ` +
      `Each operation run N times (100,000; AbortSignal.timeout 2,000) in a loop inside one request to a worker ` +
      `under \`wrangler dev\`, timed with performance.now() inside and from this process outside; the median ` +
      `of 5 requests. The request carries ${3 + extra} header fields. Warm loops: a call made once per ` +
      `request costs at least this. Command: \`node scripts/api-cost.ts ${process.argv.slice(2).join(" ")}\`. ` +
      new Date().toISOString(),
    "",
    table(["operation", "what", "µs per call (inside)", "µs per call (from outside)"], rows),
    "",
    "The loop's own cost is the first row. \"From outside\" adds the request's round trip spread over N " +
      "(and, for AbortSignal.timeout, the timers' cleanup when the request ends).",
  ].join("\n");
  await writeReport(extra === 0 ? "api-cost.md" : `api-cost-${3 + extra}-fields.md`, `${text}\n`, out);
} finally {
  await cleanup();
}
