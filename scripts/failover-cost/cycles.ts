/** c and d: all proxies under load through the same deaths and recoveries of the victim, analysed. */
import { log, now, sleep } from "../lib/log.ts";
import { median, p99 } from "../lib/stats.ts";
import { startLoad, startWatch, type Event, type Sample } from "./load.ts";
import type { Origins } from "./origins.ts";
import { NGINX_FAIL_TIMEOUT_MS, RECOVERY_CAP_MS, VICTIM, type Settings } from "./settings.ts";
import type { Kind, Target } from "./targets.ts";

/** One death of the victim: when it died, came back, and when the cycle's measuring ended. */
interface Cycle {
  readonly deathAt: number;
  readonly recoveryAt: number;
  readonly endAt: number;
}

export interface CycleResult {
  readonly baselineMedian: number;
  readonly deadRequests: number;
  readonly detectMs: number | null;
  readonly lastTriedMs: number | null;
  readonly triedRequests: number;
  readonly triedAfterDetect: number;
  readonly maxAddedMs: number;
  readonly p99AddedMs: number;
  readonly slowRequests: number;
  readonly errorsDead: number;
  readonly errorsRecovery: number;
  readonly readmitMs: number | null;
  readonly allBackMs: number | null;
  readonly events: string[];
}

/** One proxy's deaths and recoveries. */
export interface HealthResult {
  readonly name: string;
  readonly kind: Kind;
  readonly victims: number;
  readonly cycles: CycleResult[];
}

/** The bound each proxy's own settings promise for re-admission after a recovery. */
export const readmitBound = (kind: Kind, { probeIntervalMs, rise }: Settings) =>
  kind === "ours" ? probeIntervalMs * rise : kind === "haproxy" ? 2_000 * 2 : NGINX_FAIL_TIMEOUT_MS;

/** Loads every target at once while the victim dies and recovers `sizes.cycles` times. */
export async function runCycles(targets: readonly Target[], origins: Origins, settings: Settings) {
  const { sizes } = settings;
  const loads = targets.map(startLoad);
  const watches = targets.map(startWatch);
  const cycles: Cycle[] = [];
  try {
    await sleep(3_000);
    for (let c = 0; c < sizes.cycles; c++) {
      const deathAt = now();
      await origins.kill();
      log(`cycle ${c + 1}/${sizes.cycles}: ${VICTIM} stopped (connections refused) for ${sizes.deadMs / 1000} s`);
      await sleep(sizes.deadMs - (now() - deathAt));
      const recoveryAt = now();
      await origins.revive();
      log(`cycle ${c + 1}: ${VICTIM} back on its port; waiting for every proxy to send it its clients again`);
      // Until every proxy has served a victim client from the victim again, then 3 s more.
      const backAt = new Map<string, number>();
      while (now() - recoveryAt < RECOVERY_CAP_MS && backAt.size < targets.length) {
        await sleep(100);
        targets.forEach((t, i) => {
          const back = loads[i]!.samples.find((s) => s.victimClient && s.sentAt >= recoveryAt && s.origin === VICTIM);
          if (back !== undefined && !backAt.has(t.name)) {
            backAt.set(t.name, back.sentAt);
            log(
              `cycle ${c + 1}: ${t.name} sent a client to ${VICTIM} ${Math.round(back.sentAt - recoveryAt)} ms after recovery`,
            );
          }
        });
      }
      await sleep(3_000);
      cycles.push({ deathAt, recoveryAt, endAt: now() });
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    await Promise.all(watches.map((w) => w?.stop()));
  }
  return targets.map((t, i): HealthResult => {
    const errors = loads[i]!.samples.filter((s) => s.origin === null).length;
    log(`${t.name}: ${loads[i]!.samples.length} requests under load, ${errors} errors`);
    return {
      name: t.name,
      kind: t.kind,
      victims: t.victims.length,
      cycles: cycles.map((cycle) => analyse(loads[i]!.samples, watches[i]?.events ?? null, cycle)),
    };
  });
}

function analyse(samples: readonly Sample[], events: readonly Event[] | null, cycle: Cycle): CycleResult {
  const bySent = [...samples].sort((a, b) => a.sentAt - b.sentAt);
  const v = bySent.filter((s) => s.victimClient);
  const baseline = v.filter(
    (s) => s.sentAt >= cycle.deathAt - 3_000 && s.sentAt < cycle.deathAt && s.origin === VICTIM,
  );
  const baselineMedian = median(baseline.map((s) => s.ms));
  const dead = v.filter((s) => s.sentAt >= cycle.deathAt && s.sentAt < cycle.recoveryAt);
  const firstAvoid = dead.findIndex((s) => !s.tried);
  const tried = dead.filter((s) => s.tried);
  const lastTried = tried.length > 0 ? tried[tried.length - 1]! : null;
  const added = dead.map((s) => s.ms - baselineMedian);
  const back = v.filter((s) => s.sentAt >= cycle.recoveryAt && s.sentAt < cycle.endAt);
  const firstBack = back.find((s) => s.origin === VICTIM) ?? null;
  const lastAway = [...back].reverse().find((s) => s.origin !== VICTIM) ?? null;
  const allBack = back.find((s) => s.origin === VICTIM && (lastAway === null || s.sentAt > lastAway.sentAt)) ?? null;
  const errorsIn = (from: number, to: number) =>
    bySent.filter((s) => s.sentAt >= from && s.sentAt < to && s.origin === null).length;
  const rel = (at: number) => {
    const from = at < cycle.recoveryAt ? cycle.deathAt : cycle.recoveryAt;
    return `${at < cycle.recoveryAt ? "death" : "recovery"} + ${Math.round(at - from)} ms`;
  };
  return {
    baselineMedian,
    deadRequests: dead.length,
    detectMs: firstAvoid >= 0 ? dead[firstAvoid]!.sentAt - cycle.deathAt : null,
    lastTriedMs: lastTried === null ? null : lastTried.sentAt - cycle.deathAt,
    triedRequests: tried.length,
    triedAfterDetect: firstAvoid >= 0 ? dead.slice(firstAvoid).filter((s) => s.tried).length : 0,
    maxAddedMs: added.length > 0 ? Math.max(...added) : Number.NaN,
    p99AddedMs: p99(added),
    slowRequests: added.filter((a) => a >= 1_000).length,
    // Requests sent up to 1 s before the death can be in flight when it happens.
    errorsDead: errorsIn(cycle.deathAt - 1_000, cycle.recoveryAt),
    errorsRecovery: errorsIn(cycle.recoveryAt, cycle.endAt),
    readmitMs: firstBack === null ? null : firstBack.sentAt - cycle.recoveryAt,
    allBackMs: allBack === null ? null : allBack.sentAt - cycle.recoveryAt,
    events: (events ?? [])
      .filter((e) => e.at >= cycle.deathAt && e.at < cycle.endAt)
      .map((e) => `${rel(e.at)}: ${e.state}`),
  };
}
