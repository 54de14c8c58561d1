/**
 * When probe rounds run: the least gap between two rounds, whether the alarm's round is a full
 * one or a fast one (the origins not settled up), and when the next alarm comes. Pure: the times
 * come in as numbers (ms), nothing reads a clock.
 */

/** Which origins a round probes: all of them, or only those not settled up (a fast round). */
export type RoundScope = "all" | "unsettled";

/** Cron-only deployments (HEALTH_INTERVAL_MS 0) still never count two rounds within this gap. */
export const CRON_ROUND_GAP_MS = 30_000;

/**
 * The least time since the last full round before a round of `scope` runs: half an interval for a
 * full round, half a fast interval for a fast one, so a round delivered twice (cron and alarm at
 * once, an alarm retried) is not counted twice.
 */
export function roundGap(scope: RoundScope, intervalMs: number, fastIntervalMs: number): number {
  if (scope === "unsettled") return fastIntervalMs / 2;
  return intervalMs > 0 ? intervalMs / 2 : CRON_ROUND_GAP_MS;
}

/** True when the last full round started less than `gap` before `now` (a clock that went back does not count). */
export function isTooSoon(now: number, lastRoundAt: number | null, gap: number): boolean {
  return lastRoundAt !== null && now - lastRoundAt < gap && now >= lastRoundAt;
}

/**
 * Whether the alarm at `now` runs a full round (one is due, within half a fast interval, or the
 * clock went back) or a fast one, and when the next full round is due.
 */
export function planAlarmRound(
  now: number,
  lastRoundAt: number | null,
  intervalMs: number,
  fastIntervalMs: number,
): { readonly full: boolean; readonly nextFullAt: number } {
  if (
    fastIntervalMs === 0 ||
    lastRoundAt === null ||
    now - lastRoundAt >= intervalMs - fastIntervalMs / 2 ||
    now < lastRoundAt
  ) {
    return { full: true, nextFullAt: now + intervalMs };
  }
  return { full: false, nextFullAt: lastRoundAt + intervalMs };
}

/** The next alarm: the next full round, or the fast interval from `now` when that is sooner and an origin is unsettled. */
export function nextAlarmAt(nextFullAt: number, now: number, fastIntervalMs: number, unsettled: boolean): number {
  return fastIntervalMs > 0 && unsettled ? Math.min(nextFullAt, now + fastIntervalMs) : nextFullAt;
}
