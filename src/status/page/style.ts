/** The status page's one stylesheet and the origins' colours (inline under the response's nonce). */

// Tableau 10, red last: red also means "down" on this page.
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#9c755f",
  "#ff9da7",
  "#bab0ac",
  "#e15759",
];

/** An origin's colour: the palette, then hues a golden angle apart. */
export function originColour(index: number): string {
  return index < PALETTE.length ? PALETTE[index]! : `hsl(${Math.round((index * 137.508) % 360)} 55% 48%)`;
}

/** The page's stylesheet: constant text (it goes into the <style> element raw). */
export const STYLE = `
:root{color-scheme:light;--fg:#1d2330;--muted:#5f6b7a;--line:#e3e7ee;--bg:#f6f8fb;--card:#fff;--bad:#c62828;--warn:#b26a00;--good:#2e7d32}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.5rem 2rem;padding:1rem 1.5rem;background:#1d2330;color:#fff}
header h1{margin:0;font-size:1.25rem;font-weight:650}header h1 span{font-weight:400;color:#aab4c3}
header .meta{margin:0;color:#c9d1dc}header a{color:#9cc3ff}
header form{display:inline}header button{font:inherit;background:none;border:1px solid #6b778a;color:#fff;border-radius:4px;padding:0 .5rem;cursor:pointer}
main{max-width:1280px;margin:0 auto;padding:1rem 1.5rem}
h2{font-size:1.05rem;margin:1.75rem 0 .5rem}h3{font-size:.8rem;margin:0;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
section{margin-bottom:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem .9rem}
.card p{margin:.2rem 0 0;color:var(--muted);font-size:.85rem}.card .big{font-size:1.6rem;color:var(--fg);font-weight:650;margin:.15rem 0 0}
.card .big small{font-size:.85rem;font-weight:400;color:var(--muted)}
.isolate .scope,.scope{font-size:.68rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#6a3fb5;background:#efe8fb;border-radius:3px;padding:0 .3rem;white-space:nowrap}
.card.isolate,section.isolate table,section.isolate .spark{border-color:#d8c9f3}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:.75rem;color:var(--muted);font-weight:600;background:#fafbfd}
tr:last-child td{border-bottom:0}
.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
td.error{color:var(--bad);max-width:22rem;overflow-wrap:anywhere;font-size:.85rem}
small{color:var(--muted)}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.78rem;font-weight:600;background:#e8ebf0;color:#3b4554}
.badge.up,.badge.active{background:#e3f3e4;color:var(--good)}.badge.down,.badge.disabled{background:#fde7e7;color:var(--bad)}
.badge.ejected,.badge.draining{background:#fff1dc;color:var(--warn)}
tr[data-health=down] td:first-child{box-shadow:inset 3px 0 var(--bad)}
.banner{padding:.6rem .9rem;border-radius:8px;margin:.5rem 0}.banner.bad{background:#fde7e7;color:#7f1010}.banner.warn{background:#fff1dc;color:#6b4000}
.bad-text{color:var(--bad)}
.ring-layout{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem}
.ring-layout>div{flex:1 1 420px}
.ring-layout>.rings{flex:0 1 auto;display:flex;flex-wrap:wrap;gap:1rem}
.ring .arc{fill:none;stroke:currentColor;stroke-width:22}.ring .moved .arc{stroke-width:12}
.ring .arc.out{opacity:.25}.ring .arc.none{stroke:#d0d4da}.ring .track{fill:none;stroke:#f0f2f5;stroke-width:12}
table.legend{border:0;width:auto}table.legend td,table.legend th{border:0;padding:.15rem .5rem .15rem 0;background:none}
.bar{display:block}.bar rect{fill:currentColor}.bar rect.out{opacity:.3}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:0 1.5rem}
table.origins td:first-child{white-space:nowrap}
.ring-label{font-size:15px;font-weight:650;fill:var(--fg)}.ring-label.small,.small{font-size:11px;font-weight:400;fill:var(--muted)}
.swatch{font-size:1rem;line-height:1}
.note{color:var(--muted);font-size:.82rem;max-width:70rem}
.spark{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;max-width:100%;height:auto}
.spark .requests{fill:#8fb3d9}.spark .errors{fill:var(--bad)}
tr.heavy td{background:#fff7e8}
footer{max-width:1280px;margin:1rem auto 2rem;padding:0 1.5rem;color:var(--muted);font-size:.8rem}
`;
