import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  budgetUsage,
  createRetryBudget,
  recordRequest,
  tryAcquireRetry,
  type RetryBudget,
  type RetryBudgetSettings,
} from "../../../src/core/proxy/retry-budget.ts";

// Envoy's default percentage and a 10 s window: buckets are 1 s wide.
const SETTINGS: RetryBudgetSettings = { percent: 20, minRetries: 3, windowMs: 10_000 };
const HOUR = 3_600_000;

function requests(budget: RetryBudget, count: number, now: number, settings = SETTINGS): void {
  for (let i = 0; i < count; i++) recordRequest(budget, settings, now);
}

/** How many of `attempts` retries are granted at `now`. */
function grants(budget: RetryBudget, attempts: number, now: number, settings = SETTINGS): number {
  let granted = 0;
  for (let i = 0; i < attempts; i++) if (tryAcquireRetry(budget, settings, now)) granted++;
  return granted;
}

describe("retry budget", () => {
  test("100 requests at 20 % allow 20 retries; the 21st is refused", () => {
    const budget = createRetryBudget();
    requests(budget, 100, 1_000);
    for (let i = 0; i < 20; i++) expect(tryAcquireRetry(budget, SETTINGS, 1_000 + i)).toBe(true);
    expect(tryAcquireRetry(budget, SETTINGS, 1_020)).toBe(false);
    expect(budgetUsage(budget, SETTINGS, 1_020)).toEqual({ requests: 100, retries: 20, allowed: 20 });
  });

  test("the floor lets the first minRetries retries through with no traffic, and NOT one more", () => {
    const budget = createRetryBudget();
    expect(grants(budget, 10, 0)).toBe(3);
    expect(budgetUsage(budget, SETTINGS, 0)).toEqual({ requests: 0, retries: 3, allowed: 3 });
  });

  test("the floor applies while percent × requests is below it", () => {
    const budget = createRetryBudget();
    requests(budget, 14, 0); // ⌊14 × 20 %⌋ = 2 < 3
    expect(grants(budget, 10, 0)).toBe(3);
  });

  test("a refused retry is NOT counted", () => {
    const budget = createRetryBudget();
    grants(budget, 50, 0);
    expect(budgetUsage(budget, SETTINGS, 0).retries).toBe(3);
  });

  test("percent 0 with no floor refuses every retry", () => {
    const budget = createRetryBudget();
    const none = { percent: 0, minRetries: 0, windowMs: 10_000 };
    requests(budget, 1_000, 0, none);
    expect(grants(budget, 10, 0, none)).toBe(0);
  });

  test("allowed rounds down: 99 requests at 20 % allow 19", () => {
    const budget = createRetryBudget();
    requests(budget, 99, 0);
    expect(grants(budget, 30, 0)).toBe(19);
  });

  test("the budget refills once the window has passed", () => {
    const budget = createRetryBudget();
    requests(budget, 100, 0);
    expect(grants(budget, 30, 0)).toBe(20);
    expect(grants(budget, 1, 9_999)).toBe(0);
    expect(budgetUsage(budget, SETTINGS, 10_000)).toEqual({ requests: 0, retries: 0, allowed: 3 });
    requests(budget, 100, 10_000);
    expect(grants(budget, 30, 10_000)).toBe(20);
  });

  test("buckets expire one at a time as the window slides", () => {
    const budget = createRetryBudget();
    for (let second = 0; second < 10; second++) requests(budget, 10, second * 1_000);
    expect(budgetUsage(budget, SETTINGS, 9_999).requests).toBe(100);
    expect(budgetUsage(budget, SETTINGS, 10_000).requests).toBe(90);
    expect(budgetUsage(budget, SETTINGS, 14_500).requests).toBe(50);
    expect(budgetUsage(budget, SETTINGS, 19_000).requests).toBe(0);
  });

  // The documented granularity: a count lives until its 1 s bucket leaves the 10 s window, so
  // between 9 s and 10 s.
  test.each([
    [0, 9_999, 1],
    [0, 10_000, 0],
    [999, 9_999, 1],
    [999, 10_000, 0],
  ])("a request counted at %i ms, seen at %i ms, counts %i", (at, later, expected) => {
    const budget = createRetryBudget();
    recordRequest(budget, SETTINGS, at);
    expect(budgetUsage(budget, SETTINGS, later).requests).toBe(expected);
  });

  test("a jump of hours forgets everything and neither throws nor goes negative", () => {
    const budget = createRetryBudget();
    requests(budget, 100, 0);
    grants(budget, 20, 0);
    expect(budgetUsage(budget, SETTINGS, 5 * HOUR)).toEqual({ requests: 0, retries: 0, allowed: 3 });
    requests(budget, 50, 5 * HOUR + 1);
    expect(grants(budget, 20, 5 * HOUR + 2)).toBe(10);
    expect(budget.requests.every((n) => n >= 0) && budget.retries.every((n) => n >= 0)).toBe(true);
  });

  test("a jump to an epoch-sized time and on works bucket by bucket", () => {
    const budget = createRetryBudget();
    const start = 1_767_225_600_000; // 2026-01-01 in ms
    requests(budget, 10, 0);
    requests(budget, 10, start);
    requests(budget, 10, start + 5_000);
    expect(budgetUsage(budget, SETTINGS, start + 9_999).requests).toBe(20);
    expect(budgetUsage(budget, SETTINGS, start + 10_000).requests).toBe(10);
  });

  test("a time out of order but inside the window counts in its own bucket", () => {
    const budget = createRetryBudget();
    recordRequest(budget, SETTINGS, 8_000);
    recordRequest(budget, SETTINGS, 2_000); // late, still inside the window
    expect(budgetUsage(budget, SETTINGS, 8_000).requests).toBe(2);
    // It leaves with its own bucket, before the request of 8 000 ms.
    expect(budgetUsage(budget, SETTINGS, 12_000).requests).toBe(1);
    expect(budgetUsage(budget, SETTINGS, 18_000).requests).toBe(0);
  });

  test("a time older than the window is counted afresh, never as a negative count", () => {
    const budget = createRetryBudget();
    requests(budget, 100, HOUR);
    grants(budget, 20, HOUR);
    recordRequest(budget, SETTINGS, 0);
    expect(budgetUsage(budget, SETTINGS, 0)).toEqual({ requests: 1, retries: 0, allowed: 3 });
    expect(grants(budget, 5, 0)).toBe(3);
  });

  test("a time that is not a number neither throws nor poisons the counts", () => {
    const budget = createRetryBudget();
    recordRequest(budget, SETTINGS, Number.NaN);
    requests(budget, 10, 1_000);
    recordRequest(budget, SETTINGS, Number.POSITIVE_INFINITY);
    expect(budgetUsage(budget, SETTINGS, 1_000).requests).toBe(12);
    expect(grants(budget, 5, Number.NaN)).toBe(3);
  });

  test("settings that are not numbers refuse retries rather than allow them all", () => {
    const budget = createRetryBudget();
    const broken = { percent: Number.NaN, minRetries: Number.NaN, windowMs: Number.NaN };
    requests(budget, 100, 0, broken);
    expect(grants(budget, 5, 0, broken)).toBe(0);
  });

  test("a changed window starts afresh", () => {
    const budget = createRetryBudget();
    requests(budget, 100, 0);
    grants(budget, 20, 0);
    const longer = { ...SETTINGS, windowMs: 60_000 };
    expect(budgetUsage(budget, longer, 1)).toEqual({ requests: 0, retries: 0, allowed: 3 });
  });
});

type Event = { readonly kind: "request" | "retry"; readonly step: number };

const settingsArb = fc.record({
  percent: fc.integer({ min: 0, max: 100 }),
  minRetries: fc.integer({ min: 0, max: 5 }),
  windowMs: fc.constantFrom(1_000, 10_000, 12_345),
});

// Mostly requests, small steps (many events per bucket), now and then a step past the window.
const eventsArb = (maxStep: number, minStep = 0) =>
  fc.array(
    fc.record({
      kind: fc.oneof({ arbitrary: fc.constant("request" as const), weight: 3 }, fc.constant("retry" as const)),
      step: fc.oneof(
        { arbitrary: fc.integer({ min: minStep, max: maxStep }), weight: 20 },
        fc.integer({ min: minStep, max: 30_000 }),
      ),
    }),
    { maxLength: 400 },
  );

const allowance = (requests: number, s: RetryBudgetSettings) =>
  Math.max(s.minRetries, Math.floor((requests * s.percent) / 100));

describe("retry budget properties", () => {
  test("with time moving forward, every decision is justified by the last windowMs (within one bucket)", () => {
    fc.assert(
      fc.property(settingsArb, eventsArb(400), (settings, events: Event[]) => {
        const budget = createRetryBudget();
        const requestTimes: number[] = [];
        const grantTimes: number[] = [];
        const inRange = (times: number[], from: number, to: number) => times.filter((t) => t > from && t <= to).length;
        const w = settings.windowMs;
        let now = 0;
        for (const event of events) {
          now += event.step;
          if (event.kind === "request") {
            recordRequest(budget, settings, now);
            requestTimes.push(now);
          } else if (tryAcquireRetry(budget, settings, now)) {
            grantTimes.push(now);
            // Never too generous: the grants of the last 0.9 windowMs fit the requests of the last windowMs.
            expect(inRange(grantTimes, now - (9 * w) / 10, now)).toBeLessThanOrEqual(
              allowance(inRange(requestTimes, now - w, now), settings),
            );
            // The documented slack: a whole windowMs may hold, on top, the grants of its oldest tenth.
            expect(inRange(grantTimes, now - w, now)).toBeLessThanOrEqual(
              allowance(inRange(requestTimes, now - w, now), settings) +
                inRange(grantTimes, now - w, now - (9 * w) / 10),
            );
          } else {
            // Never too stingy: a refusal means the last windowMs already spent what the last 0.9 windowMs allow.
            expect(inRange(grantTimes, now - w, now)).toBeGreaterThanOrEqual(
              allowance(inRange(requestTimes, now - (9 * w) / 10, now), settings),
            );
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test("with time jumping back and forth, nothing throws and no count goes negative", () => {
    fc.assert(
      fc.property(settingsArb, eventsArb(2_000, -2_000), (settings, events: Event[]) => {
        const budget = createRetryBudget();
        let now = HOUR;
        let granted = 0;
        for (const event of events) {
          now += event.step * (event.step % 7 === 0 ? 1_000 : 1);
          if (event.kind === "request") recordRequest(budget, settings, now);
          else if (tryAcquireRetry(budget, settings, now)) granted++;
          const usage = budgetUsage(budget, settings, now);
          expect(usage.requests).toBeGreaterThanOrEqual(0);
          expect(usage.retries).toBeGreaterThanOrEqual(0);
          expect(usage.retries).toBeLessThanOrEqual(granted);
          expect(usage.requests).toBe(budget.requests.reduce((a, b) => a + b, 0));
          expect(usage.retries).toBe(budget.retries.reduce((a, b) => a + b, 0));
          expect([...budget.requests, ...budget.retries].every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
