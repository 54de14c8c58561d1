/**
 * The placements in force, stored as one JSON value under the `placements` meta key: a few dozen
 * entries at most (HOT_KEYS_MAX per pool), read with the snapshot and written only when a plan or
 * an operator changes them, so a table of their own would buy nothing. Owns that key.
 */
import { byHashThenKey, type Placement } from "../core/placement/placement.ts";
import { readMeta, writeMeta } from "./meta.ts";

const KEY = "placements";

/** The stored placements, sorted by key hash then key ([] when none or unreadable). */
export function readPlacements(sql: SqlStorage): Placement[] {
  const text = readMeta(sql, KEY);
  if (text === null) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as Placement[]) : [];
  } catch {
    // Written only by writePlacements; a damaged value must not stop routing: no placements.
    return [];
  }
}

/** Replaces the stored placements (call inside the transaction that bumps the epoch). */
export function writePlacements(sql: SqlStorage, placements: readonly Placement[]): void {
  writeMeta(sql, KEY, JSON.stringify([...placements].sort(byHashThenKey)));
}
