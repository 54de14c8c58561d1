/**
 * Active health: probe rounds over the stored origins, their verdicts written to the health
 * records (and the changes announced: health-announcer.ts), and when the last full round started
 * (meta "last_round_at"). Each round that runs logs one probe.round summary.
 */
import { pickHealthSettings } from "../core/health/health-settings.ts";
import {
  applyProbe,
  fastInterval,
  isAwaiting,
  isSettled,
  type HealthSettings,
  type ProbeResult,
} from "../core/health/health.ts";
import { slotsPerOrigin, syncLayout } from "./layout-rows.ts";
import { isTooSoon, roundGap, type RoundScope } from "../core/health/probe-schedule.ts";
import { announceHealth } from "./health-announcer.ts";
import { readEpoch, readMeta, writeMeta } from "./meta.ts";
import { readHealth, readOriginRows, writeHealth, type OriginRow } from "./origin-rows.ts";
import { probeOrigin } from "./prober.ts";
import type { RoundResult } from "./protocol.ts";
import type { StoreHost } from "./store-host.ts";

/** When the last full round started (ms, the object's clock), or null before the first. */
export function readLastRoundAt(sql: SqlStorage): number | null {
  const last = readMeta(sql, "last_round_at");
  return last === null ? null : Number(last);
}

/** True when some origin is not settled up (a fast round has work). */
export function hasUnsettled(sql: SqlStorage): boolean {
  return readOriginRows(sql).some((row) => !isSettled(readHealth(row)));
}

/** Runs the object's probe rounds, one at a time. */
export class ProbeRounds {
  private inFlight = false;

  constructor(private readonly host: StoreHost) {}

  /**
   * Probes every origin concurrently ("all") or only the origins not settled up ("unsettled": the
   * fast rounds of HEALTH_FAST_INTERVAL_MS between full ones) and applies the verdicts. Safe to call
   * from the cron and the alarm at once, and for an alarm delivered twice: a round runs only when
   * no other is in flight, a full round only when the last one started at least half an interval
   * ago, and a fast round not within half a fast interval of a full one, so no result is counted
   * twice.
   */
  async run(scope: RoundScope, now: () => number): Promise<RoundResult> {
    const { settings, storage } = this.host;
    const sql = storage.sql;
    const epoch = readEpoch(sql);
    if (settings === null) return { ran: false, skipped: "misconfigured", probed: 0, dropped: 0, epoch };
    if (this.inFlight) return { ran: false, skipped: "in-flight", probed: 0, dropped: 0, epoch };
    const at = now();
    const fast = fastInterval(settings.healthIntervalMs, settings.healthFastIntervalMs);
    if (isTooSoon(at, readLastRoundAt(sql), roundGap(scope, settings.healthIntervalMs, fast))) {
      return { ran: false, skipped: "too-soon", probed: 0, dropped: 0, epoch };
    }
    const targets = readOriginRows(sql)
      .filter((row) => scope === "all" || !isSettled(readHealth(row)))
      .map((row) => ({ id: row.id, url: row.url }));
    if (targets.length === 0) return { ran: false, skipped: "all-settled", probed: 0, dropped: 0, epoch };
    if (scope === "all") writeMeta(sql, "last_round_at", String(at));
    this.inFlight = true;
    try {
      // fetch must be called unbound from `deps` (workerd: "Illegal invocation" otherwise).
      const deps = { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init), now };
      const results = await Promise.all(targets.map((t) => probeOrigin(t.url, settings, deps)));
      let dropped = 0;
      let queued = 0;
      storage.transactionSync(() => {
        let changed = false;
        let joined = false;
        targets.forEach((target, i) => {
          const row = readOriginRows(sql, target.id)[0];
          // Removed or re-pointed while it was being probed: the verdict is about something else.
          if (row === undefined || row.url !== target.url) {
            dropped++;
            return;
          }
          const result = applyProbeResult(sql, row, results[i]!, pickHealthSettings(settings));
          changed = result.changed || changed;
          joined = result.joined || joined;
        });
        // A new origin that passed its first probes gets its slots now (its clients move once, to it).
        if (joined) syncLayout(sql, slotsPerOrigin(settings));
        if (changed) this.host.bumpEpoch();
        // Every round, changed or not: an ejection that simply expired is noticed here.
        queued = announceHealth(this.host, now());
      });
      const passed = results.filter((result) => result.ok).length;
      const probed = targets.length - dropped;
      const summary = { probed, passed, failed: results.length - passed, dropped, alertsQueued: queued };
      const durationMs = now() - at;
      this.host.log(
        { event: "probe.round", level: "info", scope, ...summary, durationMs, epoch: readEpoch(sql) },
        now(),
      );
      return { ran: true, probed, dropped, epoch: readEpoch(sql) };
    } finally {
      this.inFlight = false;
    }
  }
}

/** Writes one probe's verdict into the origin's health record: whether routing changed, and whether a new origin joined. */
function applyProbeResult(
  sql: SqlStorage,
  row: OriginRow,
  result: ProbeResult,
  settings: HealthSettings,
): { changed: boolean; joined: boolean } {
  const before = readHealth(row);
  const { health, changed } = applyProbe(before, result, settings);
  writeHealth(sql, row.id, health);
  return { changed, joined: isAwaiting(before) && !isAwaiting(health) };
}
