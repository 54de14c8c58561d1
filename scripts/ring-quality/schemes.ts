/**
 * The ring schemes compared by the simulation, each built into a `Mapper` (a key hash → the
 * primary origin): random virtual nodes, Maglev's fill from scratch, the worker's slot layout
 * changed in place, and rendezvous hashing (Thaler & Ravishankar 1998) as the reference.
 */
import { xxh32String } from "../../src/core/hash.ts";
import { buildRing, walkRing, type Ring, type RingMember } from "../../src/core/ring/ring.ts";
import { updateLayout } from "../../src/core/ring/layout-update.ts";
import { buildSlotRing, freshLayout, ringFromLayout, type SlotLayout } from "../../src/core/ring/slot-layout.ts";

/** A built scheme: member ids, and the primary's index into them for a key hash. */
export interface Mapper {
  readonly ids: readonly string[];
  primary(keyHash: number, eligible: ArrayLike<boolean>): number;
  /** The slot layout it was built from, for schemes that change a layout rather than rebuild. */
  readonly layout?: SlotLayout;
}

export interface Scheme {
  readonly name: string;
  build(members: readonly RingMember[]): Mapper;
  /** A permanent membership change from `base`; schemes without it are rebuilt from scratch. */
  change?(base: Mapper, members: readonly RingMember[]): Mapper;
}

function ringMapper(ring: Ring, layout?: SlotLayout): Mapper {
  const out = new Uint32Array(1);
  return { ids: ring.ids, layout, primary: (h, eligible) => (walkRing(ring, h, eligible, out) === 1 ? out[0]! : -1) };
}

function layoutMapper(layout: SlotLayout): Mapper {
  return ringMapper(ringFromLayout(layout), layout);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Highest random weight: each (key, member) pair draws a score; the highest eligible score wins. */
function rendezvousMapper(members: readonly RingMember[]): Mapper {
  const ids = members.map((m) => m.id);
  // Two member hashes, mixed in two stages, so that k ^ a = k' ^ a' gives unrelated scores.
  const a = Uint32Array.from(ids, (id) => xxh32String(id));
  const b = Uint32Array.from(ids, (id) => xxh32String(id, 0x9e3779b1));
  const w = Float64Array.from(members, (m) => m.weight);
  const equal = members.every((m) => m.weight === members[0]!.weight);
  const n = ids.length;
  const primary = (h: number, eligible: ArrayLike<boolean>): number => {
    let best = -1;
    let bestScore = -Infinity;
    for (let m = 0; m < n; m++) {
      if (!eligible[m]) continue;
      const s = fmix32(fmix32(h ^ a[m]!) ^ b[m]!) >>> 0;
      // Weighted HRW (Schindelhauer & Schomaker 2005): -w / ln(u), u uniform in (0, 1).
      const score = equal ? s : -w[m]! / Math.log((s + 0.5) / 4_294_967_296);
      if (score > bestScore) {
        bestScore = score;
        best = m;
      }
    }
    return best;
  };
  return { ids, primary };
}

export const SCHEMES: readonly Scheme[] = [
  { name: "ring-160", build: (members) => ringMapper(buildRing(members, 160)) },
  { name: "maglev", build: (members) => ringMapper(buildSlotRing(members)) },
  {
    name: "slot",
    build: (members) => layoutMapper(freshLayout(members)),
    change: (base, members) => layoutMapper(updateLayout(base.layout!, members).layout),
  },
  { name: "rendezvous", build: rendezvousMapper },
];

/** `base` changed to `members`: in place where the scheme can, else rebuilt. */
export const changed = (scheme: Scheme, base: Mapper, members: readonly RingMember[]) =>
  scheme.change ? scheme.change(base, members) : scheme.build(members);

export const originNumber = (id: string) => Number(id.slice("origin-".length));

/** `origin-0` … `origin-<n−1>`, equal weights unless `weight` says otherwise. */
export const origins = (n: number, weight = (_: number) => 1): RingMember[] =>
  Array.from({ length: n }, (_, i) => ({ id: `origin-${i}`, weight: weight(i) }));

/** Primary origin number (not member index: indices shift when membership changes) per key. */
export function assign(mapper: Mapper, keys: Uint32Array, eligible?: readonly boolean[]): Int32Array {
  const allowed = eligible ?? mapper.ids.map(() => true);
  const number = Int32Array.from(mapper.ids, originNumber);
  const result = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) result[i] = number[mapper.primary(keys[i]!, allowed)]!;
  return result;
}
