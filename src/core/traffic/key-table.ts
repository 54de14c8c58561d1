/**
 * A bounded table of hot-key counts that many space-saving lists are added into: the mergeable
 * summary of Agarwal et al. ("Mergeable Summaries", PODS 2012, §3). Counts of the same key add up;
 * when the table holds more than its capacity, the smallest (by guaranteed count) are dropped and
 * the largest dropped count becomes the table's floor: a key the table does not hold sent at most
 * that many. So memory is the capacity, however many clients or reporters there are.
 *
 * Deterministic: ties are broken by hash, then key text. Adding the same lists in another order
 * gives the same table as long as nothing was dropped; once the table overflows, the kept keys
 * can differ only among those near the floor, which is within the stated error either way.
 */
import type { KeyCount } from "./traffic-report.ts";

/** Key counts with their error bound. */
export interface KeyTable {
  readonly capacity: number;
  readonly entries: Map<string, { hash: number; count: number; overestimate: number; userBits: number }>;
  /** The largest count ever dropped: any key not held has at most this many (an upper bound). */
  floor: number;
}

/** An empty table of at most `capacity` keys. */
export function createKeyTable(capacity: number): KeyTable {
  return { capacity: Math.max(1, Math.floor(capacity)), entries: new Map(), floor: 0 };
}

/** Orders by guaranteed count (count − overestimate), then count, then hash, then key: a total order. */
export function compareKeyCounts(a: KeyCount, b: KeyCount): number {
  return (
    b.count - b.overestimate - (a.count - a.overestimate) ||
    b.count - a.count ||
    a.hash - b.hash ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/**
 * Adds one list of counts. `floor` is the list's own floor (the smallest count of a full
 * space-saving list, or a merged table's floor): keys held here but missing from the list may have
 * had up to that many there, so it is added to their overestimate and count, as traffic-stats.ts
 * does across generations. Then the table is trimmed to capacity.
 */
export function addKeyCounts(table: KeyTable, keys: readonly KeyCount[], floor = 0): void {
  const given = new Set<string>();
  for (const { key, hash, count, overestimate, userBits = 0 } of keys) {
    given.add(key);
    const held = table.entries.get(key);
    if (held === undefined) {
      // Not held: it may have been counted before and dropped, so up to the table's floor more.
      table.entries.set(key, {
        hash,
        count: count + table.floor,
        overestimate: overestimate + table.floor,
        userBits: userBits >>> 0,
      });
    } else {
      held.count += count;
      held.overestimate += overestimate;
      held.userBits = (held.userBits | userBits) >>> 0;
    }
  }
  if (floor > 0) {
    for (const [key, held] of table.entries) {
      if (given.has(key)) continue;
      held.count += floor;
      held.overestimate += floor;
    }
  }
  trim(table);
}

/** Adds another table (a bucket into a window's total, a location's roll-up). */
export function addKeyTable(table: KeyTable, other: KeyTable): void {
  addKeyCounts(table, keyCounts(other), other.floor);
  table.floor = Math.max(table.floor, other.floor);
}

/** The held keys, sorted by compareKeyCounts. */
export function keyCounts(table: KeyTable): KeyCount[] {
  return [...table.entries].map(([key, entry]) => ({ key, ...entry })).sort(compareKeyCounts);
}

function trim(table: KeyTable): void {
  if (table.entries.size <= table.capacity) return;
  const sorted = keyCounts(table);
  for (const dropped of sorted.slice(table.capacity)) {
    table.entries.delete(dropped.key);
    table.floor = Math.max(table.floor, dropped.count);
  }
}
