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
      recordAttempts([failure("a"), success("b")], 1);
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
    recordAttempts([failure("a"), success("a"), failure("a"), failure("a"), success("b")], 7);
    flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 5_000);
    await waitOnExecutionContext(ctx);
    expect(received).toEqual([[{ id: "a", successes: 1, failures: 3, trailingFailures: 2, clients: [7] }]]);
  });

  test("sends NOTHING while all is well; held successes ride along with the origin's next failure", async () => {
    const received: ReportEntry[][] = [];
    const ctx = createExecutionContext();
    for (let i = 0; i < 50; i++) {
      recordAttempts([success("a"), success("b")], 1);
      flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 10_000 + i * 1_000);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(received).toHaveLength(0);
    recordAttempts([failure("b")], 2);
    flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 100_000);
    await waitOnExecutionContext(ctx);
    expect(received).toEqual([[{ id: "b", successes: 50, failures: 1, trailingFailures: 1, clients: [2] }]]);
  });

  test("only gateway failures count (502-504, 52x, timeouts, lost connections); 4xx and other 5xx say nothing", () => {
    for (const status of [400, 404, 429, 500, 501, 505, 507, 599])
      expect(judgeAttempt({ kind: "response", status })).toBeNull();
    expect(judgeAttempt({ kind: "response", status: 200 })).toBe(true);
    expect(judgeAttempt({ kind: "response", status: 304 })).toBe(true);
    for (const status of [502, 503, 504, 520, 521, 522, 523, 524, 525, 526])
      expect(judgeAttempt({ kind: "response", status })).toBe(false);
    expect(judgeAttempt({ kind: "timeout" })).toBe(false);
    expect(judgeAttempt({ kind: "network-error" })).toBe(false);
  });

  test("a report names the distinct clients behind the trailing failures, at most 16; a success forgets them", async () => {
    const received: ReportEntry[][] = [];
    const ctx = createExecutionContext();
    recordAttempts([failure("a")], 99);
    recordAttempts([success("a")], 99);
    for (let client = 0; client < 40; client++) recordAttempts([failure("a")], client % 20);
    flushReports(fakeEnv(received), settings, ctx, { onAnswer: () => undefined }, 5_000);
    await waitOnExecutionContext(ctx);
    expect(received[0]![0]!.clients).toEqual([...Array(16).keys()]);
    expect(received[0]![0]!.trailingFailures).toBe(40);
  });

  test("a report that never answers is given up after DO_TIMEOUT_MS, and the next one is sent", async () => {
    const calls: number[] = [];
    const hung = { report: () => (calls.push(1), new Promise(() => undefined)) };
    const env = { RING: { idFromName: () => ({}), get: () => hung } } as unknown as Env;
    const quick = { ...settings, doTimeoutMs: 50 };
    const ctx = createExecutionContext();
    recordAttempts([failure("a")], 1);
    flushReports(env, quick, ctx, { onAnswer: () => undefined }, 10_000);
    await waitOnExecutionContext(ctx);
    recordAttempts([failure("a")], 1);
    flushReports(env, quick, ctx, { onAnswer: () => undefined }, 20_000);
    await waitOnExecutionContext(ctx);
    expect(calls).toHaveLength(2);
  });

  test("sends nothing when nothing was recorded, and hands back the object's epoch", async () => {
    const received: ReportEntry[][] = [];
    const epochs: number[] = [];
    const ctx = createExecutionContext();
    flushReports(fakeEnv(received, 9), settings, ctx, { onAnswer: (a) => epochs.push(a.epoch) }, 10_000);
    recordAttempts([failure("a")], 1);
    flushReports(fakeEnv(received, 9), settings, ctx, { onAnswer: (a) => epochs.push(a.epoch) }, 10_000);
    await waitOnExecutionContext(ctx);
    expect(received).toHaveLength(1);
    expect(epochs).toEqual([9]);
  });
});
