/**
 * `npm run bench`: every measurement of issue 5 in one run, one part after another, each a child
 * process (`node <script> --out DIR [--quick]`), then BENCHMARKS.md (the machine, the command, one
 * section per item with its figures and each goal met or missed) and SVG charts from the parts'
 * JSON. A script, not a test: it asserts nothing about time. It exits non-zero when a part crashed
 * (after running the others), so CI notices a broken bench.
 *
 *   node scripts/bench.ts [--quick] [--out DIR] [--only ring-cost,scale-model,...]
 *
 * Full run: BENCHMARKS.md in the repository root, the parts' reports and charts in bench/.
 * --quick: small sizes, written to a fresh temp directory unless --out says otherwise, so a quick
 * run never overwrites the committed results. --out DIR: DIR/BENCHMARKS.md and DIR/bench/.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import { benchLog as log, benchRun } from "./benchmarks/bench-run.ts";
import { drawCharts } from "./benchmarks/charts.ts";
import { PARTS } from "./benchmarks/parts.ts";
import { renderBenchmarks } from "./benchmarks/render.ts";
import { earlierOutcome, runPart, stopPartsOnSignal, type Outcome } from "./benchmarks/run-part.ts";
import { now, seconds } from "./lib/log.ts";
import { describeMachine } from "./lib/machine.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
  },
});
const only = args.only?.split(",").map((s) => s.trim());
for (const id of only ?? []) {
  if (!PARTS.some((p) => p.id === id))
    throw new Error(`--only: no part "${id}" (${PARTS.map((p) => p.id).join(", ")})`);
}
const run = benchRun(args, process.argv.slice(2));
stopPartsOnSignal();

const parts = PARTS.filter((p) => only === undefined || only.includes(p.id));
const m = describeMachine();
log(
  `${run.quick ? "quick run" : "full run"}: ${parts.length} parts; BENCHMARKS.md → ${run.out}, reports → ${run.partsDir}`,
);
log(`machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, workerd ${m.workerd}; load average ${m.loadAverage}`);
fs.mkdirSync(run.partsDir, { recursive: true });
const ran: Outcome[] = [];
for (const [i, part] of parts.entries()) ran.push(await runPart(part, run, i + 1, parts.length));
// A full --only run rewrites BENCHMARKS.md with the other parts' earlier results kept, in order.
const outcomes: Outcome[] =
  only === undefined || run.quick
    ? ran
    : PARTS.flatMap((part) => {
        const fresh = ran.find((o) => o.part === part);
        const earlier = fresh === undefined ? earlierOutcome(part, run) : null;
        return fresh !== undefined ? [fresh] : earlier !== null ? [earlier] : [];
      });

// The parts' JSON as prettier writes it, so `prettier --check .` accepts a committed full run.
for (const o of outcomes) {
  const file = path.join(run.partsDir, o.part.json);
  if (o.data === null) continue;
  const config = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(fs.readFileSync(file, "utf8"), { ...config, filepath: file }));
}
const { charts, notes } = drawCharts(outcomes, run.chartsDir);
const total = now();
const benchmarks = path.join(run.out, "BENCHMARKS.md");
const config = (await prettier.resolveConfig(benchmarks)) ?? {};
const md = await prettier.format(renderBenchmarks(run, outcomes, charts, notes, m, total), {
  ...config,
  parser: "markdown",
});
fs.writeFileSync(benchmarks, md);

const crashed = outcomes.filter((o) => o.status === "crashed");
console.log("");
for (const o of outcomes) {
  const goals = o.data?.goals ?? [];
  const verdict = goals.length > 0 ? `${goals.filter((g) => g.met).length}/${goals.length} goals met` : "no goals";
  const time = o.status === "not run" ? "" : ` in ${seconds(o.ms)}`;
  console.log(`  ${o.part.id.padEnd(18)} ${o.status.padEnd(8)}${time}; ${verdict}${o.reason ? ` (${o.reason})` : ""}`);
  for (const g of goals.filter((g) => !g.met)) console.log(`  ${"".padEnd(18)} missed: ${g.goal}: ${g.detail}`);
}
log(`wrote ${benchmarks} and ${charts.length} charts in ${run.chartsDir}`);
if (crashed.length > 0) {
  log(`FAILED: ${crashed.map((o) => `${o.part.id} (${o.reason})`).join(", ")}`);
  process.exit(1);
}
