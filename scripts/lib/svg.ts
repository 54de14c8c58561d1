/**
 * A small hand-written SVG bar chart for the bench reports (no dependencies): grouped bars, a title,
 * axis labels, horizontal grid lines, the value printed on every bar, optional reference lines
 * (goals, ideals) and a legend. Plain SVG 1.1 with a white background, so it reads the same on a
 * light or dark page and in any browser or Markdown viewer.
 */

/** One series: a bar in every group (null = no bar, e.g. a scheme not measured at that size). */
export interface Series {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

/** A horizontal line, e.g. a goal or the ideal: across the plot, or over one group's bars only. */
export interface ReferenceLine {
  readonly value: number;
  readonly label: string;
  /** Index into `groups`: the line spans that group only (a goal that holds for one size). */
  readonly group?: number;
}

/** What to draw. Groups run along the x axis; each group holds one bar per series. */
export interface BarChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly groups: readonly string[];
  readonly series: readonly Series[];
  readonly yLabel: string;
  readonly xLabel?: string;
  /** The axis floor (default 0). Peak/mean charts start at 1, the perfect balance. */
  readonly yMin?: number;
  readonly yMax?: number;
  readonly lines?: readonly ReferenceLine[];
  /** How values are printed on bars and ticks (default: up to 3 significant decimals). */
  readonly format?: (value: number) => string;
  readonly width?: number;
  readonly height?: number;
}

// Okabe & Ito's palette: distinguishable with every common colour-vision deficiency.
const COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fixed = (n: number) => Number(n.toFixed(1)).toString();

function defaultFormat(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return Number(value.toPrecision(4)).toString();
}

/** Tick labels with as many decimals as the step needs (0.05 → 2, 250 → 0). */
function tickFormat(step: number): (value: number) => string {
  const text = String(Number(step.toPrecision(6)));
  const decimals = text.includes(".") ? text.split(".")[1]!.length : 0;
  return (value) => value.toLocaleString("en", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A label split into lines of about `chars` characters, at spaces. */
function wrap(label: string, chars: number): string[] {
  const lines: string[] = [];
  for (const word of label.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && (last + " " + word).length <= chars) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Tick values from `min` to at least `max`, on a 1 / 2 / 2.5 / 5 × 10^k step. */
function ticks(min: number, max: number, wanted = 5): number[] {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / wanted;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const first = Math.floor(min / step + 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v < max + step - 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The chart as an SVG document. */
export function barChart(chart: BarChart): string {
  const width = chart.width ?? 760;
  const height = chart.height ?? 440;
  const format = chart.format ?? defaultFormat;
  const values = chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const lineValues = (chart.lines ?? []).map((l) => l.value);
  const dataMax = Math.max(...values, ...lineValues, chart.yMin ?? 0);
  const yTicks = ticks(chart.yMin ?? 0, chart.yMax ?? dataMax + (dataMax - (chart.yMin ?? 0)) * 0.08);
  const yMin = yTicks[0]!;
  const yMax = chart.yMax ?? yTicks.at(-1)!;
  const tickLabel = tickFormat(yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1);

  // One series needs no legend: the y label names it.
  const legendRows = chart.series.length > 1 ? Math.ceil(chart.series.length / 4) : 0;
  const plotW0 = width - 78 - 24;
  const groupChars = Math.max(8, Math.floor(plotW0 / Math.max(1, chart.groups.length) / 7.5));
  const labelLines = Math.max(1, ...chart.groups.map((g) => wrap(g, groupChars).length));
  const margin = {
    top: chart.subtitle ? 72 : 52,
    right: 24,
    bottom: 30 + labelLines * 16 + (chart.xLabel ? 22 : 0) + legendRows * 22,
    left: 78,
  };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const y = (v: number) => margin.top + plotH - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" aria-label="${escape(chart.title)}" font-family="${escape(FONT)}">`,
    `<title>${escape(chart.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="18" font-weight="600" fill="#111">${escape(chart.title)}</text>`,
  );
  if (chart.subtitle) {
    out.push(
      `<text x="${width / 2}" y="50" text-anchor="middle" font-size="13" fill="#555">${escape(chart.subtitle)}</text>`,
    );
  }

  // Grid and y axis.
  for (const t of yTicks) {
    if (t > yMax + 1e-9) continue;
    const ty = fixed(y(t));
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${ty}" y2="${ty}" stroke="#e3e3e3"/>`,
      `<text x="${margin.left - 8}" y="${ty}" dy="4" text-anchor="end" font-size="12" fill="#333">${escape(tickLabel(t))}</text>`,
    );
  }
  const midY = margin.top + plotH / 2;
  out.push(
    `<text x="18" y="${fixed(midY)}" transform="rotate(-90 18 ${fixed(midY)})" text-anchor="middle" font-size="13" fill="#333">${escape(chart.yLabel)}</text>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#888"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#888"/>`,
  );

  // Bars, grouped; each labelled with its value (inside the top of the bar when it is tall enough).
  const groupW = plotW / Math.max(1, chart.groups.length);
  const inner = groupW * 0.8;
  const barW = inner / Math.max(1, chart.series.length);
  const valueSize = barW >= 44 ? 12 : barW >= 30 ? 11 : 10;
  chart.groups.forEach((group, g) => {
    const gx = margin.left + g * groupW + (groupW - inner) / 2;
    chart.series.forEach((series, s) => {
      const v = series.values[g];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx + s * barW + barW * 0.06;
      const w = barW * 0.88;
      const top = y(v);
      const h = Math.max(1, margin.top + plotH - top);
      const color = COLORS[s % COLORS.length]!;
      out.push(
        `<rect x="${fixed(x)}" y="${fixed(top)}" width="${fixed(w)}" height="${fixed(h)}" fill="${color}">` +
          `<title>${escape(`${series.name}, ${group}: ${format(v)}`)}</title></rect>`,
      );
      const above = v > yMax ? `${format(v)} ↑` : format(v);
      const labelY = top - 5 < margin.top + 10 ? top + 14 : top - 5;
      const fill = labelY > top ? "#fff" : "#111";
      out.push(
        `<text x="${fixed(x + w / 2)}" y="${fixed(labelY)}" text-anchor="middle" font-size="${valueSize}" fill="${fill}">${escape(above)}</text>`,
      );
    });
    wrap(group, groupChars).forEach((line, i) => {
      out.push(
        `<text x="${fixed(margin.left + g * groupW + groupW / 2)}" y="${margin.top + plotH + 20 + i * 16}" text-anchor="middle" font-size="13" fill="#222">${escape(line)}</text>`,
      );
    });
  });

  // Reference lines over the bars, labelled at the right end.
  (chart.lines ?? []).forEach((line, i) => {
    if (line.value < yMin || line.value > yMax) return;
    const ly = fixed(y(line.value));
    const [x1, x2] =
      line.group === undefined
        ? [margin.left, margin.left + plotW]
        : [margin.left + line.group * groupW + 4, margin.left + (line.group + 1) * groupW - 4];
    out.push(
      `<line x1="${fixed(x1)}" x2="${fixed(x2)}" y1="${ly}" y2="${ly}" stroke="#c00" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${fixed(line.group === undefined ? x2 - 4 : x1 + 2)}" y="${ly}" dy="${line.group !== undefined || i % 2 === 0 ? -5 : 14}" text-anchor="${line.group === undefined ? "end" : "start"}" font-size="12" fill="#c00" ` +
        `stroke="#fff" stroke-width="3" paint-order="stroke">${escape(line.label)}</text>`,
    );
  });

  let legendY = margin.top + plotH + 26 + labelLines * 16;
  if (chart.xLabel) {
    out.push(
      `<text x="${margin.left + plotW / 2}" y="${legendY}" text-anchor="middle" font-size="13" fill="#333">${escape(chart.xLabel)}</text>`,
    );
    legendY += 22;
  }
  // Legend: up to four entries a row, centred.
  for (let row = 0; row < legendRows; row++) {
    const entries = chart.series.slice(row * 4, row * 4 + 4);
    const widths = entries.map((e) => 26 + e.name.length * 7.2);
    let x = margin.left + (plotW - widths.reduce((a, b) => a + b, 0)) / 2;
    entries.forEach((entry, i) => {
      const color = COLORS[(row * 4 + i) % COLORS.length]!;
      out.push(
        `<rect x="${fixed(x)}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`,
        `<text x="${fixed(x + 17)}" y="${legendY}" font-size="13" fill="#222">${escape(entry.name)}</text>`,
      );
      x += widths[i]!;
    });
    legendY += 22;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
