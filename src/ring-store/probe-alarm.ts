/**
 * The object's alarm: the probe rounds' clock when HEALTH_INTERVAL_MS is set (finer than cron's
 * one minute). When rounds are due is core/health/probe-schedule.ts; this arms and fires it.
 */
import type { Settings } from "../core/config/settings.ts";
import { errorText } from "../core/log/log-event.ts";
import { fastInterval } from "../core/health/health.ts";
import { nextAlarmAt, planAlarmRound, type RoundScope } from "../core/health/probe-schedule.ts";
import { hasUnsettled, readLastRoundAt } from "./probe-rounds.ts";
import type { RoundResult } from "./protocol.ts";
import type { StoreHost } from "./store-host.ts";

/**
 * The alarm: re-arm first, then one probe round, so rounds start every HEALTH_INTERVAL_MS even
 * when a round is slow (1,000 origins take ~8 s through the 6-connection limit; re-arming after
 * the round made the cadence interval + round time). A full round when one is due, else a fast
 * round of the unsettled origins; while any origin is unsettled the next alarm comes after
 * HEALTH_FAST_INTERVAL_MS. A round still running when the next alarm fires is not overlapped:
 * probeRound skips it. Errors are logged, never thrown (a throw would retry the alarm).
 */
export async function runAlarm(
  host: StoreHost,
  now: () => number,
  probeRound: (scope: RoundScope) => Promise<RoundResult>,
): Promise<void> {
  const { settings, storage } = host;
  const interval = settings?.healthIntervalMs ?? 0;
  if (settings === null || interval <= 0) return;
  const fast = fastInterval(interval, settings.healthFastIntervalMs);
  const started = now();
  const { full, nextFullAt } = planAlarmRound(started, readLastRoundAt(storage.sql), interval, fast);
  // Without fast rounds nothing is unsettled enough to bring the alarm forward: no read.
  const next = () => nextAlarmAt(nextFullAt, now(), fast, fast > 0 && hasUnsettled(storage.sql));
  // Armed before the round (a slow or failing round keeps the cadence), and again after it with
  // what the round found: an origin it unsettled is probed again after the fast interval.
  await scheduleAlarm(storage, next(), started);
  try {
    await probeRound(full ? "all" : "unsettled");
    await scheduleAlarm(storage, next(), now());
  } catch (error) {
    host.log({ event: "probe.round_failed", level: "error", error: errorText(error) });
  }
}

/** Arms the first alarm of a new object (or one whose alarm was lost); a pending one stays. */
export async function armAlarm(storage: DurableObjectStorage, settings: Settings | null): Promise<void> {
  const interval = settings?.healthIntervalMs ?? 0;
  if (interval <= 0 || (await storage.getAlarm()) !== null) return;
  await storage.setAlarm(Date.now() + interval);
}

/** Sets the alarm to `at` on the object's clock (`now`), as a wall-clock time. */
async function scheduleAlarm(storage: DurableObjectStorage, at: number, now: number): Promise<void> {
  await storage.setAlarm(Date.now() + Math.max(0, at - now));
}
