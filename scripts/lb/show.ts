/** The admin API's answers as text tables for the terminal. */

interface Flow {
  readonly from: string | null;
  readonly to: string | null;
  readonly share: number;
}
export interface Preview {
  readonly share: number;
  readonly ipv4Addresses: number;
  readonly ipv6Prefixes: number;
  readonly flows: readonly Flow[];
}
interface OriginRow {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly region: string | null;
  readonly state: string;
  readonly health: string;
  readonly share: number;
  readonly traffic: number;
  readonly ejectedUntil: number | null;
}
interface RegionRow {
  readonly id: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly countries: readonly string[];
  readonly continents: readonly string[];
  readonly origins: readonly string[];
}
interface AuditRow {
  readonly seq: number;
  readonly at: number;
  readonly epoch: number;
  readonly action: string;
  readonly detail: Record<string, unknown>;
  readonly actor: string | null;
}

const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.0001 ? 6 : 2)} %`;
const count = (n: number) => Math.round(n).toLocaleString("en-US");
const sci = (n: number) => (n === 0 ? "0" : n.toExponential(2).replace("e+", "e"));

function textColumns(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function showOrigins(answer: { epoch: number; layoutEpoch: number; origins: OriginRow[] }): string {
  const rows = answer.origins.map((o) => [
    o.id,
    o.state,
    o.health + (o.ejectedUntil !== null && o.ejectedUntil > Date.now() ? " (ejected)" : ""),
    String(o.weight),
    o.region ?? "-",
    percent(o.share),
    count(o.share * 2 ** 32),
    `${Math.round(o.traffic * 100)} %`,
    o.url,
  ]);
  return (
    `epoch ${answer.epoch} (layout ${answer.layoutEpoch}), ${answer.origins.length} origins\n\n` +
    textColumns(
      ["id", "state", "health", "weight", "region", "share", "IPv4 addresses", "traffic", "url"],
      rows,
      new Set([3, 5, 6, 7]),
    ) +
    "\n\nshare: of the hashed key space its slots own = of IPv4 addresses and of IPv6 /64s; traffic: of its own clients it takes now"
  );
}

/** The preview in words: how many clients move, and where. */
export function showPreview(preview: Preview, top = 10): string {
  if (preview.share === 0) return "moves nobody";
  const lines = [
    `moves ${percent(preview.share)} of clients: ${count(preview.ipv4Addresses)} IPv4 addresses, ${sci(preview.ipv6Prefixes)} IPv6 /64s`,
  ];
  const shown = preview.flows
    .slice(0, top)
    .map((f) => [f.from ?? "(none)", "→", f.to ?? "(none: 503)", percent(f.share), count(f.share * 2 ** 32)]);
  lines.push("", textColumns(["from", "", "to", "share", "IPv4 addresses"], shown, new Set([3, 4])));
  if (preview.flows.length > top) {
    const rest = preview.flows.slice(top).reduce((sum, f) => sum + f.share, 0);
    lines.push(`… and ${preview.flows.length - top} smaller flows (${percent(rest)})`);
  }
  return lines.join("\n");
}

export function showRegions(answer: {
  epoch: number;
  defaultRegion: string | null;
  regions: RegionRow[];
  catchAll: string[];
}): string {
  if (answer.regions.length === 0) {
    return `epoch ${answer.epoch}: no regions, one pool of ${answer.catchAll.length} origins`;
  }
  const rows = answer.regions.map((r) => [
    r.id + (r.id === answer.defaultRegion ? " (default)" : ""),
    `${r.latitude}, ${r.longitude}`,
    [...r.countries, ...r.continents].join(" ") || "(by distance)",
    r.origins.join(" ") || "(none)",
  ]);
  rows.push(["(catch-all)", "-", "after every region", answer.catchAll.join(" ") || "(none)"]);
  return (
    `epoch ${answer.epoch}

` + textColumns(["region", "lat, lon", "serves first", "origins"], rows)
  );
}

export function showAudit(answer: { entries: AuditRow[]; next: number | null }): string {
  const rows = answer.entries.map((e) => {
    // `op` repeats the action; `moved` is the preview's share, shown in its own column.
    const { moved, op: _op, ...rest } = e.detail as { moved?: number; op?: string } & Record<string, unknown>;
    return [
      String(e.seq),
      new Date(e.at).toISOString().replace(/\.\d+Z$/, "Z"),
      String(e.epoch),
      e.action,
      JSON.stringify(rest),
      moved === undefined ? "-" : percent(moved),
      e.actor ?? "-",
    ];
  });
  const more = answer.next === null ? "" : `\n\nolder entries: npm run lb -- audit --before ${answer.next}`;
  return textColumns(["seq", "at", "epoch", "action", "detail", "moved", "actor"], rows, new Set([0, 2, 5])) + more;
}
