import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_HEALTH_SETTINGS,
  INITIAL_HEALTH,
  applyProbe,
  isEjected,
  toView,
  type HealthChange,
  type HealthRecord,
  type HealthSettings,
  type ProbeResult,
} from "../../../src/core/health/health.ts";
import {
  MAX_REPORT_CLIENTS,
  MAX_REPORT_COUNT,
  applyReport,
  maxEjected,
  validateReport,
  type EjectionBudget,
  type TrafficReport,
} from "../../../src/core/health/passive-health.ts";
import { UNKNOWN_HEALTH } from "../../../src/core/model.ts";

const S = DEFAULT_HEALTH_SETTINGS;
const SECOND = 1_000;
const T0 = 1_700_000_000_000;
// Plenty of budget: one origin of a hundred, nothing ejected yet.
const ROOM: EjectionBudget = { ejectedNow: 0, total: 100 };
// Failures from three client addresses: EJECT_MIN_CLIENTS' default.
const CLIENTS = [0x11, 0x22, 0x33];

/** A fake clock: time only moves when a test says so. */
function fakeClock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    set: (t: number) => (now = t),
  };
}

const pass = (at: number, latencyMs: number | null = 12): ProbeResult => ({ ok: true, at, latencyMs, error: null });
const fail = (at: number, error: string | null = "status 503 not in 200-399"): ProbeResult => ({
  ok: false,
  at,
  latencyMs: 40,
  error,
});
const failures = (n: number): TrafficReport => ({ successes: 0, failures: n, trailingFailures: n, clients: CLIENTS });

const LETTER = { unknown: "?", up: "U", down: "D" } as const;

/** Runs "P"/"F" probes one second apart; returns the status after each ("?", "U", "D") and which changed the view. */
function runProbes(sequence: string, settings: HealthSettings, start: HealthRecord = INITIAL_HEALTH) {
  const clock = fakeClock();
  let health = start;
  let statuses = "";
  let changes = "";
  for (const c of sequence) {
    const change = applyProbe(health, c === "P" ? pass(clock.advance(SECOND)) : fail(clock.advance(SECOND)), settings);
    health = change.health;
    statuses += LETTER[health.status];
    changes += change.changed ? "!" : ".";
  }
  return { health, statuses, changes };
}

function withSettings(overrides: Partial<HealthSettings>): HealthSettings {
  return { ...S, ...overrides };
}

describe("defaults", () => {
  test("are HAProxy rise 2 fall 3 and Envoy consecutive_5xx 5, 30 s base, 300 s max, 10 %, 3 clients", () => {
    expect(DEFAULT_HEALTH_SETTINGS).toEqual({
      rise: 2,
      fall: 3,
      ejectAfter: 5,
      ejectBaseMs: 30_000,
      ejectMaxMs: 300_000,
      ejectMaxPercent: 10,
      ejectWindowMs: 10_000,
      ejectMinClients: 3,
    });
  });

  test("INITIAL_HEALTH is unknown with every counter 0 and every time null, and its view is UNKNOWN_HEALTH", () => {
    expect(INITIAL_HEALTH).toEqual({
      status: "unknown",
      passes: 0,
      failures: 0,
      lastProbeAt: null,
      latencyMs: null,
      error: null,
      passiveFailures: 0,
      ejectedUntil: null,
      ejections: 0,
      recoveredAt: null,
    });
    expect(toView(INITIAL_HEALTH)).toEqual(UNKNOWN_HEALTH);
  });
});

describe("applyProbe: rise and fall", () => {
  // [rise, fall, probes, status after each probe]; "?" unknown, "U" up, "D" down.
  test.each([
    [2, 3, "P", "U"],
    [2, 3, "PPPP", "UUUU"],
    [2, 3, "F", "?"],
    [2, 3, "FF", "??"],
    [2, 3, "FFF", "??D"],
    [2, 3, "FFFFF", "??DDD"],
    [2, 3, "PF", "UU"],
    [2, 3, "PFF", "UUU"],
    [2, 3, "PFFF", "UUUD"],
    [2, 3, "PFFPFFF", "UUUUUUD"],
    [2, 3, "PFFPFF", "UUUUUU"],
    [2, 3, "FFFP", "??DD"],
    [2, 3, "FFFPP", "??DDU"],
    [2, 3, "FFFPFP", "??DDDD"],
    [2, 3, "FFFPFPP", "??DDDDU"],
    [2, 3, "FFFPPFFF", "??DDUUUD"],
    [2, 3, "FFFPPFFP", "??DDUUUU"],
    [1, 1, "F", "D"],
    [1, 1, "FP", "DU"],
    [1, 1, "PF", "UD"],
    [1, 1, "PFPFP", "UDUDU"],
    [3, 2, "PF", "UU"],
    [3, 2, "PFF", "UUD"],
    [3, 2, "PFFPP", "UUDDD"],
    [3, 2, "PFFPPP", "UUDDDU"],
    [3, 2, "PFFPPFPPP", "UUDDDDDDU"],
    [2, 2, "PFPF", "UUUU"],
    [2, 2, "FPFPFP", "?UUUUU"],
    [5, 5, "FFFFF", "????D"],
    [5, 5, "FFFFFPPPPP", "????DDDDDU"],
    [5, 5, "FFFFPFFFFP", "????UUUUUU"],
  ])("rise %i fall %i: %s → %s", (rise, fall, probes, statuses) => {
    const run = runProbes(probes, withSettings({ rise, fall }));
    expect(run.statuses).toBe(statuses);
    // The view changes exactly when the status does (no ejection is involved here).
    const expectedChanges = [...statuses].map((s, i) => (s !== (i === 0 ? "?" : statuses[i - 1]) ? "!" : ".")).join("");
    expect(run.changes).toBe(expectedChanges);
  });

  test("an opposite result resets the streak: pass, fail, pass, fail never goes down with fall 2", () => {
    const run = runProbes("PF".repeat(50), withSettings({ fall: 2 }));
    expect(run.statuses).toBe("U".repeat(100));
    expect(run.health.failures).toBe(1);
    expect(run.health.passes).toBe(0);
  });

  test("a down origin does NOT come up on passes interrupted by failures (rise 2)", () => {
    const run = runProbes("FFF" + "PF".repeat(20), S);
    expect(run.health.status).toBe("down");
  });

  test("unknown → down after `fall` failures, without ever being up", () => {
    const run = runProbes("FFF", S);
    expect(run.statuses).toBe("??D");
    expect(run.changes).toBe("..!");
    expect(run.health.recoveredAt).toBeNull();
  });
});

describe("applyProbe: the record", () => {
  test("a pass sets failures 0, passes + 1, time and latency, and clears the error", () => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passes: 4, failures: 2, error: "timeout" };
    const { health, changed } = applyProbe(start, pass(T0, 37), S);
    expect(health).toEqual({ ...start, passes: 5, failures: 0, lastProbeAt: T0, latencyMs: 37, error: null });
    expect(changed).toBe(false);
  });

  test("a fail sets passes 0, failures + 1, time, latency and the error", () => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passes: 4 };
    const { health, changed } = applyProbe(start, fail(T0, "timeout"), S);
    expect(health).toEqual({ ...start, passes: 0, failures: 1, lastProbeAt: T0, latencyMs: 40, error: "timeout" });
    expect(changed).toBe(false);
  });

  test("a fail without an error message records a generic one (a failing probe always says why)", () => {
    expect(applyProbe(INITIAL_HEALTH, fail(T0, null), S).health.error).toBe("probe failed");
  });

  test("unknown → up at once and changes the view, but does NOT start slow start (recoveredAt stays null)", () => {
    const { health, changed } = applyProbe(INITIAL_HEALTH, pass(T0), S);
    expect(health.status).toBe("up");
    expect(changed).toBe(true);
    expect(health.recoveredAt).toBeNull();
  });

  test("down → up sets recoveredAt to the probe that reached rise and resets both counters", () => {
    const clock = fakeClock();
    const down: HealthRecord = { ...INITIAL_HEALTH, status: "down", failures: 7, error: "timeout" };
    const first = applyProbe(down, pass(clock.advance(SECOND)), S);
    expect(first.changed).toBe(false);
    expect(first.health.recoveredAt).toBeNull();
    const second = applyProbe(first.health, pass(clock.advance(SECOND)), S);
    expect(second.changed).toBe(true);
    expect(second.health).toMatchObject({
      status: "up",
      passes: 0,
      failures: 0,
      recoveredAt: clock.now(),
      error: null,
    });
  });

  test("going down keeps recoveredAt (the next recovery overwrites it)", () => {
    const up: HealthRecord = { ...INITIAL_HEALTH, status: "up", recoveredAt: T0, failures: 2 };
    const { health, changed } = applyProbe(up, fail(T0 + SECOND), S);
    expect(health.status).toBe("down");
    expect(changed).toBe(true);
    expect(health.recoveredAt).toBe(T0);
  });

  test("does NOT mutate the record it is given", () => {
    const start = { ...INITIAL_HEALTH };
    applyProbe(start, pass(T0), S);
    applyProbe(start, fail(T0), S);
    expect(start).toEqual(INITIAL_HEALTH);
  });

  test.each([NaN, -1, Infinity])("a probe time of %s is ignored: record unchanged, changed false", (at) => {
    for (const result of [pass(at), fail(at)]) {
      const change = applyProbe(INITIAL_HEALTH, result, S);
      expect(change.health).toBe(INITIAL_HEALTH);
      expect(change.changed).toBe(false);
    }
  });

  test.each([NaN, -5, Infinity, null])("a latency of %s is stored as null", (latencyMs) => {
    expect(applyProbe(INITIAL_HEALTH, pass(T0, latencyMs), S).health.latencyMs).toBeNull();
  });

  test("a threshold below 1 (or NaN) acts as 1 instead of never being reached", () => {
    expect(runProbes("F", withSettings({ fall: 0 })).statuses).toBe("D");
    expect(runProbes("FP", withSettings({ fall: NaN, rise: NaN })).statuses).toBe("DU");
  });
});

describe("property: probe status against a reference model", () => {
  // The rule stated without the state machine: the origin is down iff some `fall` consecutive
  // failures happened and, after the last such run, no `rise` consecutive passes followed.
  // Before any such run it is unknown until the first pass and up after it.
  function referenceStatus(results: readonly boolean[], rise: number, fall: number): "unknown" | "up" | "down" {
    const text = results.map((ok) => (ok ? "P" : "F")).join("");
    const lastFall = text.lastIndexOf("F".repeat(fall));
    if (lastFall >= 0) {
      return text.slice(lastFall + fall).includes("P".repeat(rise)) ? "up" : "down";
    }
    return text.includes("P") ? "up" : "unknown";
  }

  test("after every prefix of any probe sequence, the status matches the model", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { maxLength: 80 }),
        (rise, fall, results) => {
          const settings = withSettings({ rise, fall });
          let health = INITIAL_HEALTH;
          results.forEach((ok, i) => {
            const before = health.status;
            const change = applyProbe(health, ok ? pass(T0 + i * SECOND) : fail(T0 + i * SECOND), settings);
            health = change.health;
            expect(health.status).toBe(referenceStatus(results.slice(0, i + 1), rise, fall));
            expect(change.changed).toBe(health.status !== before);
          });
        },
      ),
    );
  });
});

describe("applyReport: counting consecutive failures", () => {
  // [passiveFailures before, report, passiveFailures after]; ejectAfter 5 and no ejection in these rows.
  test.each([
    [0, { successes: 0, failures: 0, trailingFailures: 0, clients: CLIENTS }, 0],
    [0, { successes: 0, failures: 3, trailingFailures: 3, clients: CLIENTS }, 3],
    [3, { successes: 0, failures: 1, trailingFailures: 1, clients: CLIENTS }, 4],
    [3, { successes: 2, failures: 1, trailingFailures: 1, clients: CLIENTS }, 1],
    [3, { successes: 1, failures: 4, trailingFailures: 0, clients: CLIENTS }, 0],
    [4, { successes: 1, failures: 0, trailingFailures: 0, clients: CLIENTS }, 0],
    // 4 + 9 would eject, but a success came in between: only the trailing 4 are consecutive.
    [4, { successes: 3, failures: 9, trailingFailures: 4, clients: CLIENTS }, 4],
  ])("%i, then %j → %i", (before, report, after) => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passiveFailures: before };
    const { health, changed } = applyReport(start, report, S, T0, ROOM);
    expect(health.passiveFailures).toBe(after);
    expect(health.ejectedUntil).toBeNull();
    expect(changed).toBe(false);
  });

  test("a success resets the count to the report's trailing failures, which can then eject", () => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passiveFailures: 4 };
    const { health, changed } = applyReport(
      start,
      { successes: 1, failures: 6, trailingFailures: 5, clients: CLIENTS },
      S,
      T0,
      ROOM,
    );
    expect(changed).toBe(true);
    expect(health.ejectedUntil).toBe(T0 + 30_000);
  });

  test("failures from several isolates add up over the edge: 3 + 2 ejects with K 5", () => {
    const clock = fakeClock();
    const a = applyReport({ ...INITIAL_HEALTH, status: "up" }, failures(3), S, clock.now(), ROOM);
    expect(a.changed).toBe(false);
    const b = applyReport(a.health, failures(2), S, clock.advance(SECOND), ROOM);
    expect(b.changed).toBe(true);
    expect(b.health).toMatchObject({ passiveFailures: 0, ejections: 1, ejectedUntil: clock.now() + 30_000 });
  });

  test("an unknown origin (never probed) is ejected too", () => {
    const { health, changed } = applyReport(INITIAL_HEALTH, failures(5), S, T0, ROOM);
    expect(changed).toBe(true);
    expect(health.status).toBe("unknown");
    expect(isEjected(health, T0)).toBe(true);
  });

  test("the merged count is capped, so it stays an exact integer", () => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passiveFailures: MAX_REPORT_COUNT - 1 };
    const noBudget = { ejectedNow: 10, total: 10 };
    const { health } = applyReport(start, failures(MAX_REPORT_COUNT), S, T0, noBudget);
    expect(health.passiveFailures).toBe(MAX_REPORT_COUNT);
  });
});

describe("applyReport: the failure window", () => {
  const failures = (n: number): TrafficReport => ({ successes: 0, failures: n, trailingFailures: n, clients: CLIENTS });

  test("a run of failures is forgotten once no failure report arrived for longer than ejectWindowMs", () => {
    let h = applyReport(INITIAL_HEALTH, failures(4), S, T0, ROOM).health;
    h = applyReport(h, failures(1), S, T0 + S.ejectWindowMs + 1, ROOM).health;
    expect(h).toMatchObject({ passiveFailures: 1, ejectedUntil: null });
  });

  test("failures within the window keep counting, and each report restarts the window", () => {
    let h = applyReport(INITIAL_HEALTH, failures(2), S, T0, ROOM).health;
    h = applyReport(h, failures(2), S, T0 + S.ejectWindowMs, ROOM).health;
    const last = applyReport(h, failures(1), S, T0 + 2 * S.ejectWindowMs, ROOM);
    expect(last.changed).toBe(true);
    expect(last.health.ejectedUntil).toBe(T0 + 2 * S.ejectWindowMs + S.ejectBaseMs);
  });

  test("a success-only report does NOT restart the window", () => {
    let h = applyReport(INITIAL_HEALTH, failures(4), S, T0, ROOM).health;
    h = applyReport(h, { successes: 3, failures: 0, trailingFailures: 0, clients: CLIENTS }, S, T0 + 1, ROOM).health;
    expect(h.lastFailureReportAt).toBe(T0);
  });
});

describe("applyReport: ejection backoff", () => {
  /** Ejects the origin at the clock's time; returns the ejection's length. */
  function ejectNow(health: HealthRecord, now: number): { health: HealthRecord; lengthMs: number } {
    const change = applyReport(health, failures(5), S, now, ROOM);
    expect(change.changed).toBe(true);
    return { health: change.health, lengthMs: change.health.ejectedUntil! - now };
  }

  test("back to back ejections last 30 s, 60 s, 90 s, … capped at 300 s", () => {
    const clock = fakeClock();
    let health: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
    const lengths: number[] = [];
    for (let i = 0; i < 13; i++) {
      const ejected = ejectNow(health, clock.now());
      health = ejected.health;
      lengths.push(ejected.lengthMs / SECOND);
      expect(health.ejections).toBe(i + 1);
      clock.set(health.ejectedUntil!); // expires; the next failures come right away
    }
    expect(lengths).toEqual([30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300, 300]);
  });

  // [quiet time after the third ejection ended, length of the next ejection]
  test.each([
    [0, 120],
    [60_000, 120],
    [299_999, 120],
    [300_000, 120],
    [300_001, 30],
    [3_600_000, 30],
  ])("after %i ms in service the next ejection lasts %i s (streak restarts after > ejectMaxMs)", (quietMs, seconds) => {
    const clock = fakeClock();
    let health: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
    for (let i = 0; i < 3; i++) {
      health = ejectNow(health, clock.now()).health;
      clock.set(health.ejectedUntil!);
    }
    clock.advance(quietMs);
    const next = ejectNow(health, clock.now());
    expect(next.lengthMs).toBe(seconds * SECOND);
    expect(next.health.ejections).toBe(seconds === 30 ? 1 : 4);
  });

  test("an ejection that expires needs no record change: isEjected flips at ejectedUntil, the view keeps the time", () => {
    const { health } = ejectNow({ ...INITIAL_HEALTH, status: "up" }, T0);
    expect(isEjected(health, T0 + 29_999)).toBe(true);
    expect(isEjected(health, T0 + 30_000)).toBe(false);
    expect(toView(health)).toEqual({ status: "up", ejectedUntil: T0 + 30_000, recoveredAt: null });
  });

  test("reports during an ejection do NOT extend it (record unchanged, changed false)", () => {
    const clock = fakeClock();
    const { health } = ejectNow({ ...INITIAL_HEALTH, status: "up" }, clock.now());
    for (const at of [1, 10_000, 29_999]) {
      clock.set(T0 + at);
      const change = applyReport(health, failures(1_000), S, clock.now(), ROOM);
      expect(change.health).toBe(health);
      expect(change.changed).toBe(false);
    }
    expect(health.ejectedUntil).toBe(T0 + 30_000);
    expect(health.passiveFailures).toBe(0);
  });

  test("reports right at the end of an ejection count again", () => {
    const { health } = ejectNow({ ...INITIAL_HEALTH, status: "up" }, T0);
    const change = applyReport(health, failures(2), S, T0 + 30_000, ROOM);
    expect(change.health.passiveFailures).toBe(2);
  });

  test("a probe-down origin ignores reports: nothing counts, nothing is ejected", () => {
    const down: HealthRecord = { ...INITIAL_HEALTH, status: "down", failures: 3 };
    const change = applyReport(down, failures(50), S, T0, ROOM);
    expect(change.health).toBe(down);
    expect(change.changed).toBe(false);
  });

  test("a passing probe ends an ejection early: ejectedUntil and recoveredAt := the probe's time, count cleared", () => {
    const clock = fakeClock();
    const ejected = ejectNow({ ...INITIAL_HEALTH, status: "up", passes: 3 }, clock.now()).health;
    const { health, changed } = applyProbe(ejected, pass(clock.advance(10_000)), S);
    expect(changed).toBe(true);
    expect(health).toMatchObject({
      status: "up",
      ejectedUntil: clock.now(),
      recoveredAt: clock.now(),
      passiveFailures: 0,
    });
    expect(isEjected(health, clock.now())).toBe(false);
    // The streak is kept: failures soon after bring a longer ejection.
    expect(applyReport(health, failures(5), S, clock.advance(SECOND), ROOM).health.ejectedUntil).toBe(
      clock.now() + 60_000,
    );
  });

  test("a failing probe does NOT end an ejection", () => {
    const ejected = ejectNow({ ...INITIAL_HEALTH, status: "up" }, T0).health;
    const { health } = applyProbe(ejected, fail(T0 + SECOND), S);
    expect(health.ejectedUntil).toBe(T0 + 30_000);
  });

  test("a pass after the ejection expired changes nothing routing-relevant", () => {
    const ejected = ejectNow({ ...INITIAL_HEALTH, status: "up" }, T0).health;
    const change = applyProbe(ejected, pass(T0 + 30_000), S);
    expect(change.changed).toBe(false);
    expect(change.health.ejectedUntil).toBe(T0 + 30_000);
    expect(change.health.recoveredAt).toBeNull();
  });

  test("a pass ends the ejection of an origin that went down meanwhile, but it stays down until rise", () => {
    let health = ejectNow({ ...INITIAL_HEALTH, status: "up" }, T0).health;
    health = runProbes("FFF", S, health).health;
    expect(health.status).toBe("down");
    const change = applyProbe(health, pass(T0 + 20_000), S);
    expect(change.changed).toBe(true);
    expect(change.health).toMatchObject({ status: "down", ejectedUntil: T0 + 20_000, recoveredAt: T0 + 20_000 });
  });
});

describe("applyReport: the ejection budget", () => {
  // [origins, percent, how many may be ejected at once]
  test.each([
    [20, 10, 2],
    [5, 10, 1],
    [1, 10, 1],
    [9, 10, 1],
    [19, 10, 1],
    [30, 10, 3],
    [100, 10, 10],
    [1_000, 10, 100],
    [10, 50, 5],
    [10, 100, 10],
    [10, 0, 1],
    [0, 10, 0],
    [-3, 10, 0],
    [NaN, 10, 0],
    [10, NaN, 1],
  ])("maxEjected(%s origins, %s %%) = %i", (total, percent, max) => {
    expect(maxEjected(total, percent)).toBe(max);
  });

  // [origins, already ejected, ejected now?]
  test.each([
    [20, 0, true],
    [20, 1, true],
    [20, 2, false],
    [5, 0, true],
    [5, 1, false],
    [1, 0, true],
    [0, 0, false],
  ])("of %i origins with %i ejected, another one is ejected: %s", (total, ejectedNow, ejects) => {
    const up: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
    const change = applyReport(up, failures(5), S, T0, { ejectedNow, total });
    expect(change.changed).toBe(ejects);
    expect(isEjected(change.health, T0)).toBe(ejects);
    expect(change.health.passiveFailures).toBe(ejects ? 0 : 5);
  });

  test("without budget the count is kept, and a later report ejects once budget frees up", () => {
    const clock = fakeClock();
    const up: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
    const held = applyReport(up, failures(7), S, clock.now(), { ejectedNow: 2, total: 20 });
    expect(held.changed).toBe(false);
    expect(held.health.passiveFailures).toBe(7);
    const later = applyReport(held.health, failures(0), S, clock.advance(SECOND), { ejectedNow: 1, total: 20 });
    expect(later.changed).toBe(true);
    expect(later.health.ejectedUntil).toBe(clock.now() + 30_000);
  });

  test("a garbage budget (NaN ejected) keeps the origin in rather than ejecting blindly", () => {
    const change = applyReport({ ...INITIAL_HEALTH, status: "up" }, failures(5), S, T0, { ejectedNow: NaN, total: 20 });
    expect(change.changed).toBe(false);
    expect(change.health.passiveFailures).toBe(5);
  });
});

describe("applyReport: untrusted and odd input", () => {
  test.each([
    { successes: -1, failures: 5, trailingFailures: 5, clients: CLIENTS },
    { successes: 0, failures: 5.5, trailingFailures: 5, clients: CLIENTS },
    { successes: 0, failures: NaN, trailingFailures: 0, clients: CLIENTS },
    { successes: 0, failures: 5, trailingFailures: 6, clients: CLIENTS },
  ])("an invalid report %j is ignored", (report) => {
    const up: HealthRecord = { ...INITIAL_HEALTH, status: "up", passiveFailures: 2 };
    const change = applyReport(up, report, S, T0, ROOM);
    expect(change.health).toBe(up);
    expect(change.changed).toBe(false);
  });

  test.each([NaN, -1, Infinity])("a report time of %s is ignored", (now) => {
    const up: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
    expect(applyReport(up, failures(5), S, now, ROOM)).toEqual({ health: up, changed: false });
  });

  test("does NOT mutate the record it is given", () => {
    const start: HealthRecord = { ...INITIAL_HEALTH, status: "up", passiveFailures: 4 };
    applyReport(start, failures(5), S, T0, ROOM);
    expect(start).toEqual({ ...INITIAL_HEALTH, status: "up", passiveFailures: 4 });
  });

  test("property: any ejection lasts from base to max and resets the count", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 50 }),
        fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: null }),
        fc.nat({ max: 1_000 }),
        (ejections, untilOffset, failed) => {
          const start: HealthRecord = {
            ...INITIAL_HEALTH,
            status: "up",
            ejections,
            ejectedUntil: untilOffset === null ? null : Math.min(T0 + untilOffset, T0),
          };
          const { health, changed } = applyReport(start, failures(failed), S, T0, ROOM);
          expect(changed).toBe(failed >= 5);
          if (changed) {
            expect(health.ejectedUntil! - T0).toBeGreaterThanOrEqual(S.ejectBaseMs);
            expect(health.ejectedUntil! - T0).toBeLessThanOrEqual(S.ejectMaxMs);
            expect(health.passiveFailures).toBe(0);
          }
        },
      ),
    );
  });
});

describe("isEjected", () => {
  test.each([
    [null, T0, false],
    [T0 + 1, T0, true],
    [T0, T0, false],
    [T0 - 1, T0, false],
  ])("ejectedUntil %s at %i → %s", (ejectedUntil, now, ejected) => {
    expect(isEjected({ ...INITIAL_HEALTH, ejectedUntil }, now)).toBe(ejected);
  });
});

describe("toView", () => {
  test("keeps exactly status, ejectedUntil and recoveredAt", () => {
    const health: HealthRecord = {
      status: "down",
      passes: 1,
      failures: 0,
      lastProbeAt: T0,
      latencyMs: 5,
      error: null,
      passiveFailures: 2,
      ejectedUntil: T0 + 1,
      ejections: 3,
      recoveredAt: T0 - 1,
    };
    expect(toView(health)).toStrictEqual({ status: "down", ejectedUntil: T0 + 1, recoveredAt: T0 - 1 });
  });

  test("`changed` is true exactly when the view differs (checked over a mixed run)", () => {
    const clock = fakeClock();
    let health = INITIAL_HEALTH;
    const events: ((h: HealthRecord) => HealthChange)[] = [
      (h) => applyProbe(h, pass(clock.advance(SECOND)), S),
      (h) => applyReport(h, failures(3), S, clock.advance(SECOND), ROOM),
      (h) => applyReport(h, failures(2), S, clock.advance(SECOND), ROOM),
      (h) => applyReport(h, failures(9), S, clock.advance(SECOND), ROOM),
      (h) => applyProbe(h, fail(clock.advance(SECOND)), S),
      (h) => applyProbe(h, pass(clock.advance(SECOND)), S),
      (h) => applyProbe(h, pass(clock.advance(SECOND)), S),
    ];
    const changes = events.map((event) => {
      const before = toView(health);
      const change = event(health);
      health = change.health;
      expect(change.changed).toBe(JSON.stringify(toView(health)) !== JSON.stringify(before));
      return change.changed;
    });
    expect(changes).toEqual([true, false, true, false, false, true, false]);
  });
});

describe("validateReport", () => {
  test.each([
    [{ successes: 0, failures: 0, trailingFailures: 0 }],
    [{ successes: 10, failures: 4, trailingFailures: 2 }],
    [{ successes: 0, failures: MAX_REPORT_COUNT, trailingFailures: MAX_REPORT_COUNT }],
  ])("accepts %j", (report) => {
    expect(validateReport(report)).toEqual({ ...report, clients: [] });
  });

  test("returns only the three counts (extra fields from an isolate are dropped)", () => {
    expect(validateReport({ successes: 1, failures: 2, trailingFailures: 2, origin: "x", __proto__: null })).toEqual({
      successes: 1,
      failures: 2,
      trailingFailures: 2,
      clients: [],
    });
  });

  test.each([
    ["null", null],
    ["undefined", undefined],
    ["a number", 5],
    ["a string", '{"successes":0,"failures":0,"trailingFailures":0}'],
    ["an array", [0, 0, 0]],
    ["an empty object", {}],
    ["a missing field", { successes: 0, failures: 1 }],
    ["a negative count", { successes: -1, failures: 0, trailingFailures: 0 }],
    ["a fraction", { successes: 0.5, failures: 0, trailingFailures: 0 }],
    ["NaN", { successes: 0, failures: NaN, trailingFailures: 0 }],
    ["Infinity", { successes: Infinity, failures: 0, trailingFailures: 0 }],
    ["a numeric string", { successes: "1", failures: 0, trailingFailures: 0 }],
    ["a bigint", { successes: 1n, failures: 0, trailingFailures: 0 }],
    ["trailing above failures", { successes: 0, failures: 2, trailingFailures: 3 }],
    ["a count above 1e9", { successes: MAX_REPORT_COUNT + 1, failures: 0, trailingFailures: 0 }],
    ["an unsafe integer", { successes: 0, failures: 2 ** 53, trailingFailures: 0 }],
    ["clients not a list", { successes: 0, failures: 1, trailingFailures: 1, clients: "1" }],
    ["a client hash above 32 bits", { successes: 0, failures: 1, trailingFailures: 1, clients: [2 ** 32] }],
    ["a negative client hash", { successes: 0, failures: 1, trailingFailures: 1, clients: [-1] }],
    ["17 client hashes", { successes: 0, failures: 1, trailingFailures: 1, clients: [...Array(17).keys()] }],
  ])("rejects %s", (_, value) => {
    expect(validateReport(value)).toBeNull();
  });
});

describe("applyReport: failures from several clients (EJECT_MIN_CLIENTS)", () => {
  const up: HealthRecord = { ...INITIAL_HEALTH, status: "up" };
  const from = (n: number, clients: number[]): TrafficReport => ({
    successes: 0,
    failures: n,
    trailingFailures: n,
    clients,
  });

  test("any number of failures from one client never ejects", () => {
    let h = up;
    for (let i = 0; i < 50; i++) h = applyReport(h, from(20, [0xabc]), S, T0 + i * 100, ROOM).health;
    expect(h.passiveFailures).toBe(1_000);
    expect(h.ejectedUntil).toBeNull();
    expect(h.failingClients).toEqual([0xabc]);
  });

  test("clients add up over reports: the third distinct one ejects", () => {
    const a = applyReport(up, from(5, [1]), S, T0, ROOM);
    const b = applyReport(a.health, from(5, [2, 1]), S, T0 + 1, ROOM);
    expect(b.health.ejectedUntil).toBeNull();
    expect(b.health.failingClients).toEqual([1, 2]);
    const c = applyReport(b.health, from(1, [3]), S, T0 + 2, ROOM);
    expect(c.changed).toBe(true);
    expect(c.health.ejectedUntil).toBe(T0 + 2 + S.ejectBaseMs);
    expect(c.health.failingClients).toEqual([]);
  });

  test("a success forgets the clients before it; an expired run forgets them too", () => {
    const a = applyReport(up, from(5, [1, 2]), S, T0, ROOM).health;
    const b = applyReport(a, { successes: 1, failures: 1, trailingFailures: 1, clients: [3] }, S, T0 + 1, ROOM).health;
    expect(b.failingClients).toEqual([3]);
    const c = applyReport(b, from(5, [4]), S, T0 + 2 + S.ejectWindowMs, ROOM).health;
    expect(c.failingClients).toEqual([4]);
  });

  test("a record stored before clients were counted (no failingClients) merges", () => {
    const old = { ...up, passiveFailures: 4 } as HealthRecord;
    expect(applyReport(old, from(1, [1, 2, 3]), S, T0, ROOM).health.ejectedUntil).toBe(T0 + S.ejectBaseMs);
  });

  test("EJECT_MIN_CLIENTS = 1 restores ejection by failures alone", () => {
    const one = { ...S, ejectMinClients: 1 };
    expect(applyReport(up, from(5, [7]), one, T0, ROOM).health.ejectedUntil).toBe(T0 + S.ejectBaseMs);
  });

  test("property: the stored clients are distinct and at most MAX_REPORT_CLIENTS", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: MAX_REPORT_CLIENTS }), { maxLength: 20 }),
        (lists) => {
          const never = { ...S, ejectAfter: 1_000 };
          let h = up;
          for (const list of lists) h = applyReport(h, from(1, list), never, T0, ROOM).health;
          const held = h.failingClients ?? [];
          expect(new Set(held).size).toBe(held.length);
          expect(held.length).toBeLessThanOrEqual(MAX_REPORT_CLIENTS);
        },
      ),
    );
  });
});
