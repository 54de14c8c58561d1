/** BENCHMARKS.md: the machine and the command, a summary, one section per part, the charts. */
import path from "node:path";
import { seconds } from "../lib/log.ts";
import type { Machine } from "../lib/machine.ts";
import { escapeCell, table, textTable } from "../lib/markdown.ts";
import type { PartResult } from "../lib/part-result.ts";
import type { BenchRun } from "./bench-run.ts";
import type { Chart } from "./charts.ts";
import { tablesOf } from "./part-tables.ts";
import type { Outcome } from "./run-part.ts";

export function renderBenchmarks(
  run: BenchRun,
  outcomes: readonly Outcome[],
  charts: readonly Chart[],
  chartNotes: readonly string[],
  m: Machine,
  ms: number,
): string {
  const rel = (file: string) => path.relative(run.out, file).split(path.sep).join("/");
  const goalsOf = (data: PartResult | null) => data?.goals ?? [];
  const all = outcomes.flatMap((o) => goalsOf(o.data).map((g) => ({ ...g, part: o.part })));
  const missed = all.filter((g) => !g.met);
  const lines: string[] = [];
  lines.push(
    "# Benchmarks",
    "",
    `Issue 5's measurements, produced by \`${run.command}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC ` +
      `in ${seconds(ms)}.${run.quick ? " **Quick run**: small sizes, to check that the bench works; its figures are not the published ones." : ""} ` +
      "A script, not a test: nothing here is asserted; every goal is stated with what was measured.",
    "",
    `**Machine**: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; Node ${m.node}; workerd ${m.workerd} (miniflare ` +
      `${m.miniflare}); ${m.wrk}; ${m.haproxy}; ${m.nginx}. 1-minute load average at the start: ${m.loadAverage}. ` +
      "A shared 2-core machine: timings swing by up to 2× between runs; mapping figures do not.",
    "",
    "## Summary",
    "",
    textTable(
      ["part", "status", "time", "goals met", "report"],
      outcomes.map((o) => {
        const goals = goalsOf(o.data);
        const report = o.reports.map((r) => `[${r}](${rel(path.join(run.partsDir, r))})`).join(", ") || "—";
        const status = o.status === "ok" ? (o.reason ? `ok (${o.reason})` : "ok") : `**${o.status}**: ${o.reason}`;
        return [
          o.part.title,
          escapeCell(status),
          o.status === "not run" ? "—" : seconds(o.ms),
          goals.length > 0 ? `${goals.filter((g) => g.met).length} of ${goals.length}` : "—",
          report,
        ];
      }),
      [false, false, true, true, false],
    ),
    "",
  );
  if (missed.length > 0) {
    lines.push(
      `**Missed goals (${missed.length} of ${all.length})**:`,
      "",
      ...missed.map((g) => `- ${g.part.title}: ${g.goal} — ${g.detail}`),
      "",
    );
  } else if (all.length > 0) lines.push(`Every goal the parts stated (${all.length}) was met.`, "");

  for (const o of outcomes) {
    lines.push(`## ${o.part.title}`, "", o.part.about, "");
    if (o.status === "not run") {
      lines.push(`**Not run**: ${o.reason}.`, "");
      continue;
    }
    if (o.status === "crashed") lines.push(`**Crashed** (${o.reason}); figures below are whatever it wrote.`, "");
    const command = o.data?.command;
    if (command) lines.push(`Command: \`${command}\`.`, "");
    const goals = goalsOf(o.data);
    if (goals.length > 0) {
      lines.push(
        textTable(
          ["goal", "verdict", "measured"],
          goals.map((g) => [escapeCell(g.goal), g.met ? "met" : "**missed**", escapeCell(g.detail)]),
        ),
        "",
      );
    } else if (Array.isArray((o.data as { goals?: unknown } | undefined)?.goals)) {
      lines.push("No goal of its own: its figures explain other parts' goals.", "");
    } else lines.push("No goal verdicts: the part wrote no JSON with `goals`.", "");
    for (const t of tablesOf(o, run.partsDir)) {
      if (t.title) lines.push(`**${t.title}**`, "");
      lines.push(table(t.head, t.rows), "");
    }
    for (const c of charts.filter((c) => c.part === o.part.id)) {
      lines.push(`![${c.title}](${rel(path.join(run.chartsDir, c.file))})`, "");
    }
    if (o.reports.length > 0) {
      const links = o.reports.map((r) => `[${rel(path.join(run.partsDir, r))}](${rel(path.join(run.partsDir, r))})`);
      lines.push(`Full report: ${links.join(", ")}.`, "");
    }
  }
  if (chartNotes.length > 0) lines.push("## Notes", "", ...chartNotes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}
