/**
 * A deterministic stream of unsigned 32-bit key hashes (splitmix32), shared by the ring and
 * routing tests: a fast-check run draws one seed instead of thousands of integers while still
 * covering the whole key space.
 */
export function keyHashes(seed: number, count: number): Uint32Array {
  const keys = new Uint32Array(count);
  let s = seed | 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    keys[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return keys;
}
