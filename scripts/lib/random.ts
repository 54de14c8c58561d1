/** Seeded clients for the measuring scripts: the same seed gives the same addresses on every run. */

/** mulberry32: a small seeded PRNG; the same seed gives the same sequence of 32-bit numbers. */
export function random32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** random32 scaled to [0, 1): a seeded stand-in for Math.random. */
export function randomUnit(seed: number): () => number {
  const next = random32(seed);
  return () => next() / 4294967296;
}

/** A 32-bit number as a dotted IPv4 address. */
export const ipv4Dotted = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** `count` distinct seeded IPv4 addresses in dotted form. */
export function ipv4Clients(count: number, seed: number): string[] {
  const next = random32(seed);
  const unique = new Set<string>();
  while (unique.size < count) unique.add(ipv4Dotted(next()));
  return [...unique];
}
