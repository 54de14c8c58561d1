/**
 * `node scripts/scale-model.ts`: the Durable Object's request rate as a function of locations,
 * isolates per location, snapshot TTL, client traffic and origins (issue 5, "Measure" item 5),
 * derived from what the code does, with the settings' defaults imported from
 * src/core/config/settings.ts:
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
 * - probes (src/ring-store/probe-alarm.ts): the alarm re-arms HEALTH_INTERVAL_MS ahead, then runs a round;
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
import { writePartResult } from "./lib/part-result.ts";
import { BENCH_DIR, writeReport } from "./lib/report.ts";
import { scaleFigures } from "./scale-model/figures.ts";
import { ASSUMED_ISOLATES, D } from "./scale-model/model.ts";
import { scaleReport } from "./scale-model/report.ts";
import { scaleModelResult } from "./scale-model/result.ts";

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

const inputs = { locations: Number(args.locations), origins: Number(args.origins), rps: Number(args.rps) };
const ISOLATES = args.isolates.split(",").map(Number);
const TTLS_MS = args.ttls === "" ? [D.ttlMs, 30_000, 60_000] : args.ttls.split(",").map(Number);
if (
  ![inputs.locations, inputs.origins, inputs.rps, ...ISOLATES, ...TTLS_MS].every((n) => Number.isFinite(n) && n > 0)
) {
  throw new RangeError("every option must be a positive number");
}
if (!ISOLATES.includes(ASSUMED_ISOLATES)) ISOLATES.push(ASSUMED_ISOLATES);
ISOLATES.sort((a, b) => a - b);

const figures = scaleFigures(inputs, ISOLATES, TTLS_MS);
const command = ["node scripts/scale-model.ts", ...process.argv.slice(2)].join(" ");
await writeReport("scale-model.md", scaleReport(inputs, figures), args.out);
await writePartResult("scale-model.json", scaleModelResult(inputs, figures, command, args.quick), args.out);
for (const g of figures.goals) console.log(`${g.met ? "met   " : "MISSED"} ${g.goal}: ${g.detail}`);
