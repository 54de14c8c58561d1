import { describe, expect, test } from "vitest";
import {
  CRON_ROUND_GAP_MS,
  isTooSoon,
  nextAlarmAt,
  planAlarmRound,
  roundGap,
  type RoundScope,
} from "../../../src/core/health/probe-schedule.ts";

const T = 1_700_000_000_000;

describe("roundGap", () => {
  test.each<[RoundScope, number, number, number]>([
    ["all", 10_000, 2_000, 5_000],
    ["all", 10_000, 0, 5_000],
    ["unsettled", 10_000, 2_000, 1_000],
    ["unsettled", 10_000, 0, 0],
    // Cron only: no interval, but still never two counted rounds within the cron gap.
    ["all", 0, 0, CRON_ROUND_GAP_MS],
  ])("%s rounds, interval %d, fast %d: %d ms", (scope, interval, fast, gap) => {
    expect(roundGap(scope, interval, fast)).toBe(gap);
  });
});

describe("isTooSoon", () => {
  test.each<[string, number, number | null, boolean]>([
    ["no round yet", T, null, false],
    ["the last round just started", T, T, true],
    ["within the gap", T + 4_999, T, true],
    ["exactly the gap later", T + 5_000, T, false],
    ["a clock that went back does NOT hold a round up", T - 1, T, false],
  ])("%s", (_, now, last, tooSoon) => {
    expect(isTooSoon(now, last, 5_000)).toBe(tooSoon);
  });
});

describe("planAlarmRound", () => {
  test.each<[string, number, number | null, number, { full: boolean; nextFullAt: number }]>([
    ["no round yet: full", T, null, 2_000, { full: true, nextFullAt: T + 10_000 }],
    ["no fast rounds: always full", T + 1_000, T, 0, { full: true, nextFullAt: T + 11_000 }],
    ["a full round is due", T + 10_000, T, 2_000, { full: true, nextFullAt: T + 20_000 }],
    ["due within half a fast interval counts as due", T + 9_000, T, 2_000, { full: true, nextFullAt: T + 19_000 }],
    ["between full rounds: fast", T + 2_000, T, 2_000, { full: false, nextFullAt: T + 10_000 }],
    ["the clock went back: full", T - 1, T, 2_000, { full: true, nextFullAt: T + 9_999 }],
  ])("%s", (_, now, last, fast, plan) => {
    expect(planAlarmRound(now, last, 10_000, fast)).toEqual(plan);
  });
});

describe("nextAlarmAt", () => {
  test.each<[string, number, boolean, number]>([
    ["all settled: the next full round", 2_000, false, T + 10_000],
    ["an origin unsettled: the fast interval", 2_000, true, T + 2_000],
    ["unsettled but fast rounds off: the next full round", 0, true, T + 10_000],
    ["the full round comes before the fast one", 20_000, true, T + 10_000],
  ])("%s", (_, fast, unsettled, at) => {
    expect(nextAlarmAt(T + 10_000, T, fast, unsettled)).toBe(at);
  });
});
