/**
 * Passive health: what this isolate's client requests saw of each origin, sent to the Durable
 * Object in one batch at most every REPORT_INTERVAL_MS (`ctx.waitUntil`, off the request path),
 * and only for origins that failed in the meantime: while all is well, isolates send nothing.
 * The object's load from reports is at most (isolates seeing failures) / interval, whatever the
 * traffic; a batch holds one entry per failing origin, so its size is bounded by the origins.
 */
import type { Settings } from "../core/config/settings.ts";
import { MAX_REPORT_CLIENTS } from "../core/health/passive-health.ts";
import { isFailure, type AttemptOutcome } from "../core/proxy/retry.ts";
import type { Env } from "./env.ts";
import { emitLog } from "./emit-log.ts";
import type { Attempt } from "./proxy.ts";
import type { ReportAnswer, ReportEntry } from "../ring-store/protocol.ts";
import { ringStub, withTimeout } from "./do-call.ts";

interface Counts {
  successes: number;
  failures: number;
  trailingFailures: number;
  /** Distinct address hashes behind the trailing failures (at most MAX_REPORT_CLIENTS). */
  clients: number[];
}

const pending = new Map<string, Counts>();
let lastFlushAt = 0;
let inflight = false;
let anyFailures = false;

/** Counters stay exact integers and within what the object accepts. */
const MAX_COUNT = 1_000_000_000;

/**
 * Whether an attempt says the origin works (true), fails (false), or says nothing about it (null).
 * Only gateway failures count, as in Envoy's `consecutive_gateway_failure`: a lost connection, a
 * timeout, 502 / 503 / 504 and Cloudflare's 52x (retry.ts isFailure). Any other 5xx (a 500 from a
 * bug on one path) and every 4xx depend on what the client asked for, so a client could make
 * them at will: they say nothing about the origin.
 */
export function judgeAttempt(outcome: AttemptOutcome): boolean | null {
  if (isFailure(outcome)) return false;
  if (outcome.kind === "response" && outcome.status >= 400) return null;
  return true;
}

/** Counts the attempts of one proxied request; `clientHash` is the client address's hash. */
export function recordAttempts(attempts: readonly Attempt[], clientHash: number): void {
  for (let i = 0; i < attempts.length; i++) {
    const { originId, outcome } = attempts[i]!;
    const verdict = judgeAttempt(outcome);
    if (verdict === null) continue;
    let counts = pending.get(originId);
    if (counts === undefined) {
      counts = { successes: 0, failures: 0, trailingFailures: 0, clients: [] };
      pending.set(originId, counts);
    }
    if (verdict) {
      counts.successes = Math.min(counts.successes + 1, MAX_COUNT);
      counts.trailingFailures = 0;
      if (counts.clients.length > 0) counts.clients = [];
    } else {
      const hash = clientHash >>> 0;
      if (counts.clients.length < MAX_REPORT_CLIENTS && !counts.clients.includes(hash)) counts.clients.push(hash);
      counts.failures = Math.min(counts.failures + 1, MAX_COUNT);
      counts.trailingFailures = Math.min(counts.trailingFailures + 1, MAX_COUNT);
      anyFailures = true;
    }
  }
}

/** Whether flushReports would send now: failures pending, none in flight, the interval passed. */
export function reportDue(settings: Settings, now: number = Date.now()): boolean {
  return anyFailures && !inflight && now - lastFlushAt >= settings.reportIntervalMs;
}

/** How a report is sent: what to do with the answer, and what the isolate holds. */
export interface ReportHooks {
  /** Gets the object's answer (its epoch, and what changed when `known` was stale). */
  readonly onAnswer: (answer: ReportAnswer) => void;
  /** The epoch and layout epoch the isolate holds, read when the report is sent. */
  readonly known?: () => readonly [number | null, number | null];
  /** May drop entries first (what the location already knows); nothing is sent when none is left. */
  readonly stillNews?: ((batch: ReportEntry[]) => Promise<ReportEntry[]>) | null;
}

/** Sends the pending counts if the interval has passed and no report is in flight. */
export function flushReports(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  hooks: ReportHooks,
  now: number = Date.now(),
): void {
  const { onAnswer, known = () => [null, null] as const, stillNews = null } = hooks;
  if (!reportDue(settings, now)) return;
  // Successes of origins that did not fail stay here (bounded counters) until they do: they are
  // only news to the object once it has failures to weigh them against.
  const batch: ReportEntry[] = [];
  for (const [id, counts] of pending) {
    if (counts.failures === 0) continue;
    batch.push({ id, ...counts });
    pending.delete(id);
  }
  anyFailures = false;
  lastFlushAt = now;
  inflight = true;
  ctx.waitUntil(
    (stillNews === null ? Promise.resolve(batch) : stillNews(batch))
      .then(async (news) => {
        if (news.length === 0) return;
        const [epoch, layoutEpoch] = known();
        // Bounded like the refresh: a call that never answers would leave `inflight` set, and
        // passive health off in this isolate for good.
        const answer = await withTimeout(ringStub(env).report(news, epoch, layoutEpoch), settings.doTimeoutMs);
        onAnswer(answer);
      })
      // A lost report is dropped, not retried: the next interval brings fresh counts.
      .catch((error: unknown) => emitLog({ event: "report.failed", level: "error", error }, env))
      .finally(() => {
        inflight = false;
      }),
  );
}

/** Forgets pending counts (tests only: module scope outlives a test). */
export function resetReports(): void {
  pending.clear();
  lastFlushAt = 0;
  inflight = false;
  anyFailures = false;
}
