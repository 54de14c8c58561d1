import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, test } from "vitest";
import { parseSettings, type Settings } from "../../src/core/config/settings.ts";
import type { Env } from "../../src/worker/env.ts";
import { flushReports, judgeAttempt, recordAttempts, resetReports } from "../../src/worker/health-reporter.ts";
import type { ReportEntry } from "../../src/ring-store/protocol.ts";

const settings = (() => {
  const parsed = parseSettings({ REPORT_INTERVAL_MS: "1000" });
  if (!parsed.ok) throw new Error("settings");
  return parsed.value;
})() satisfies Settings;

/** An env whose Durable Object records the reports it receives. */
function fakeEnv(received: ReportEntry[][], epoch = 1): Env {
  const stub = { report: async (entries: ReportEntry[]) => (received.push(entries), { epoch, update: null }) };
  return { RING: { idFromName: () => ({}), get: () => stub } } as unknown as Env;
}

const failure = (originId: string) => ({ originId, outcome: { kind: "network-error" as const } });
const success = (originId: string) => ({ originId, outcome: { kind: "response" as const, status: 200 } });

beforeEach(() => resetReports());

describe("health reporter", () => {
  test("sends at most one report per REPORT_INTERVAL_MS, however many requests", async () => {
    const received: ReportEntry[][] = [];
    const env = fakeEnv(received);
    const ctx = createExecutionContext();
    for (let i = 0; i < 1_000; i++) {
      recordAttempts([failure("a"), success("b")]);
      flushReports(env, settings, ctx, { onAnswer: () => undefined }, 1_000_000 + i * 5); // 1,000 requests over 5 s
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a sent report settle, as between real requests
    }
    await waitOnExecutionContext(ctx);
    expect(received).toHaveLength(5);
    const total = received
      .flat()
      .filter((e) => e.id === "a")
      .reduce((n, e) => n + e.failures, 0);
    expect(total).toBe(801); // flushes at requests 0, 200, …, 800; the last 199 wait for the next interval
  });

  test("one entry per failing origin, with consecutive failures since its last success", async () => {
    const received: ReportEntry[][] = [];
    const ctx = createExecutionContext();
    recordAttempts([failure("a"), success("a"), failure("a"), failure("a"), success("b")]);
    flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 5_000);
    await waitOnExecutionContext(ctx);
    expect(received).toEqual([[{ id: "a", successes: 1, failures: 3, trailingFailures: 2 }]]);
  });

  test("sends NOTHING while all is well; held successes ride along with the origin's next failure", async () => {
    const received: ReportEntry[][] = [];
    const ctx = createExecutionContext();
    for (let i = 0; i < 50; i++) {
      recordAttempts([success("a"), success("b")]);
      flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 10_000 + i * 1_000);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(received).toHaveLength(0);
    recordAttempts([failure("b")]);
    flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 100_000);
    await waitOnExecutionContext(ctx);
    expect(received).toEqual([[{ id: "b", successes: 50, failures: 1, trailingFailures: 1 }]]);
  });

  test("4xx answers and 501 never count; 5xx, timeouts and lost connections do", () => {
    expect(judgeAttempt({ kind: "response", status: 404 })).toBeNull();
    expect(judgeAttempt({ kind: "response", status: 429 })).toBeNull();
    expect(judgeAttempt({ kind: "response", status: 501 })).toBeNull();
    expect(judgeAttempt({ kind: "response", status: 200 })).toBe(true);
    expect(judgeAttempt({ kind: "response", status: 304 })).toBe(true);
    for (const status of [500, 502, 503, 504, 520, 521, 522])
      expect(judgeAttempt({ kind: "response", status })).toBe(false);
    expect(judgeAttempt({ kind: "timeout" })).toBe(false);
    expect(judgeAttempt({ kind: "network-error" })).toBe(false);
  });

  test("sends nothing when nothing was recorded, and hands back the object's epoch", async () => {
    const received: ReportEntry[][] = [];
    const epochs: number[] = [];
    const ctx = createExecutionContext();
    flushReports(fakeEnv(received, 9), settings, ctx, { onAnswer: (a) => epochs.push(a.epoch) }, 10_000);
    recordAttempts([failure("a")]);
    flushReports(fakeEnv(received, 9), settings, ctx, { onAnswer: (a) => epochs.push(a.epoch) }, 10_000);
    await waitOnExecutionContext(ctx);
    expect(received).toHaveLength(1);
    expect(epochs).toEqual([9]);
  });
});
