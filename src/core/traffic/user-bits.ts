/**
 * How many users share one client key, estimated in 32 bits: linear counting (Whang, Vander-Zanden,
 * Taylor, "A Linear-Time Probabilistic Counting Algorithm", TODS 1990). Each request sets the bit a
 * hash of a user trait picks (the worker hashes what tells devices apart behind one address, e.g.
 * User-Agent with Accept-Language, or the affinity cookie's id when there is one); n users set
 * about 32 × (1 − e^(−n/32)) bits. Bitmaps from many isolates merge by OR, exactly.
 *
 * Only the order of magnitude matters to the planner: one user (a heavy client, which a cookie
 * split cannot spread) against dozens (a NAT or a proxy, which it can). The estimate saturates at
 * about 130 users when every bit is set.
 *
 * An isolate does not know in advance which keys will be hot, so it keeps the bitmaps in a small
 * sketch indexed by the key's hash (two rows of SKETCH_WIDTH, like a count-min sketch with OR for
 * sum and AND for min): a hot key's bitmap is its own bits plus those of the few light keys that
 * share both its cells, each of which adds about one user. Fixed memory, no allocation per request.
 */

/** Cells per row: 2 × 4,096 × 4 bytes = 32 KiB per isolate. */
export const SKETCH_WIDTH = 4_096;

/** The bit one user trait sets. */
export function userBit(traitHash: number): number {
  return (1 << ((traitHash >>> 0) % 32)) >>> 0;
}

/** Estimated distinct users from a bitmap: −32 ln(zero bits / 32), 32 ln 64 when full. */
export function estimateUsers(bits: number): number {
  let set = 0;
  for (let x = bits >>> 0; x !== 0; x = (x & (x - 1)) >>> 0) set++;
  if (set === 0) return 0;
  const zeros = 32 - set;
  return -32 * Math.log(Math.max(zeros, 0.5) / 32);
}

/** The users bitmaps of every key an isolate saw, in two rows. */
export interface UserSketch {
  readonly rows: readonly [Uint32Array, Uint32Array];
}

export function createUserSketch(): UserSketch {
  return { rows: [new Uint32Array(SKETCH_WIDTH), new Uint32Array(SKETCH_WIDTH)] };
}

// Two cells per key from its hash: the low bits, and a remix (murmur3's finalizer) for the second row.
function cells(keyHash: number): [number, number] {
  let h = keyHash >>> 0;
  const first = h % SKETCH_WIDTH;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return [first, ((h ^ (h >>> 16)) >>> 0) % SKETCH_WIDTH];
}

/** Records one request of a user (by a hash of its trait) behind a key (by its hash). */
export function addUser(sketch: UserSketch, keyHash: number, traitHash: number): void {
  const bit = userBit(traitHash);
  const [a, b] = cells(keyHash);
  sketch.rows[0][a]! |= bit;
  sketch.rows[1][b]! |= bit;
}

/** The key's users bitmap: its bits, and at most those of the keys sharing both its cells. */
export function usersOf(sketch: UserSketch, keyHash: number): number {
  const [a, b] = cells(keyHash);
  return (sketch.rows[0][a]! & sketch.rows[1][b]!) >>> 0;
}

/** Forgets everything (a new report interval). */
export function clearUserSketch(sketch: UserSketch): void {
  sketch.rows[0].fill(0);
  sketch.rows[1].fill(0);
}
