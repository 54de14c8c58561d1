/**
 * The ring as a picture: arcs of the 32-bit key space, each labelled with the member that takes
 * it. A slot table has 65,537 or more slots and, filled by Maglev, adjacent slots have
 * pseudo-random owners, so drawing every slot (or every run of equal owners) would be tens of
 * thousands of SVG arcs. Instead the circle is cut into `cells` equal cells, each coloured by the
 * member that takes the key at its middle, and consecutive cells with the same member merge into
 * one arc. Each member's arc length is then its share of the key space to within sampling noise
 * (about √(share / cells)), which is what the eye can read anyway; the exact shares go in a table.
 */

/** One arc: [start, end) as fractions of the key space (0 at 12 o'clock, clockwise), and who takes it. */
export interface Arc {
  readonly start: number;
  readonly end: number;
  /** A member index, or −1 when the key goes nowhere (no eligible member). */
  readonly member: number;
}

/** The key (unsigned 32-bit) at the middle of cell `cell` of `cells`. */
export function cellKey(cell: number, cells: number): number {
  return Math.floor(((cell + 0.5) * 4_294_967_296) / cells) >>> 0;
}

/** The member that takes the key at the middle of each of `cells` equal cells of the circle. */
export function sampleCells(cells: number, memberAt: (keyHash: number) => number): Int32Array {
  const out = new Int32Array(cells);
  for (let cell = 0; cell < cells; cell++) out[cell] = memberAt(cellKey(cell, cells));
  return out;
}

/**
 * Runs of equal values in `cells` as arcs (not merged across 12 o'clock, so every arc is one SVG
 * path segment). Values below −1 mean "draw nothing there" and yield no arc.
 */
export function mergeCells(cells: ArrayLike<number>): Arc[] {
  const arcs: Arc[] = [];
  const n = cells.length;
  let start = 0;
  for (let cell = 1; cell <= n; cell++) {
    if (cell < n && cells[cell] === cells[start]) continue;
    const member = cells[start]!;
    if (member >= -1) arcs.push({ start: start / n, end: cell / n, member });
    start = cell;
  }
  return arcs;
}

/** `sampleCells`, then `mergeCells`. */
export function sampleArcs(cells: number, memberAt: (keyHash: number) => number): Arc[] {
  return mergeCells(sampleCells(cells, memberAt));
}

/**
 * SVG path data for `arcs` on a circle of radius `r` around (cx, cy), one `M … A …` segment per
 * arc; an arc over the whole circle is drawn as two halves (one SVG arc cannot close on itself).
 * Coordinates are rounded to 0.1 unit to keep the markup small.
 */
export function arcPath(arcs: readonly Arc[], cx: number, cy: number, r: number): string {
  const point = (fraction: number) => {
    const angle = fraction * 2 * Math.PI - Math.PI / 2;
    return `${round(cx + r * Math.cos(angle))} ${round(cy + r * Math.sin(angle))}`;
  };
  const parts: string[] = [];
  for (const { start, end } of arcs) {
    if (end - start >= 1) {
      parts.push(`M${point(0)}A${r} ${r} 0 0 1 ${point(0.5)}A${r} ${r} 0 0 1 ${point(1)}`);
      continue;
    }
    const large = end - start > 0.5 ? 1 : 0;
    parts.push(`M${point(start)}A${r} ${r} 0 ${large} 1 ${point(end)}`);
  }
  return parts.join("");
}

function round(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}
