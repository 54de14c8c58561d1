/**
 * Passive health: what this isolate's client requests saw of each origin, sent to the Durable
 * Object in one batch at most every REPORT_INTERVAL_MS (`ctx.waitUntil`, off the request path).
 * The object's load from reports is isolates / interval whatever the traffic; the batch holds one
 * entry per origin seen, so its size is bounded by the number of origins.
 */
import type { Settings } from "../core/config.ts";
import type { AttemptOutcome } from "../core/retry.ts";
import type { Env } from "./env.ts";
import type { Attempt } from "./proxy.ts";
import { RING_OBJECT_NAME, type ReportEntry } from "./ring-store.ts";

interface Counts {
  successes: number;
  failures: number;
  trailingFailures: number;
}

const pending = new Map<string, Counts>();
let lastFlushAt = 0;
let inflight = false;

/**
 * Whether an attempt says the origin works (true), fails (false), or says nothing about it (null):
 * 4xx answers are the client's problem and never count; 5xx other than 501, timeouts and lost
 * connections count as failures.
 */
export function judgeAttempt(outcome: AttemptOutcome): boolean | null {
  if (outcome.kind !== "response") return false;
  if (outcome.status >= 500) return outcome.status === 501 || outcome.status === 505 ? null : false;
  if (outcome.status >= 400) return null;
  return true;
}

/** Counts the attempts of one proxied request. */
export function recordAttempts(attempts: readonly Attempt[]): void {
  for (const { originId, outcome } of attempts) {
    const verdict = judgeAttempt(outcome);
    if (verdict === null) continue;
    let counts = pending.get(originId);
    if (counts === undefined) {
      counts = { successes: 0, failures: 0, trailingFailures: 0 };
      pending.set(originId, counts);
    }
    if (verdict) {
      counts.successes++;
      counts.trailingFailures = 0;
    } else {
      counts.failures++;
      counts.trailingFailures++;
    }
  }
}

/**
 * Sends the pending counts if the interval has passed and no report is in flight. `onEpoch` gets
 * the object's epoch after the merge, so the caller can refresh at once when a report ejected.
 */
export function flushReports(
  env: Env,
  settings: Settings,
  ctx: ExecutionContext,
  onEpoch: (epoch: number) => void,
  now: number = Date.now(),
): void {
  if (pending.size === 0 || inflight || now - lastFlushAt < settings.reportIntervalMs) return;
  const batch: ReportEntry[] = [...pending].map(([id, counts]) => ({ id, ...counts }));
  pending.clear();
  lastFlushAt = now;
  inflight = true;
  ctx.waitUntil(
    env.RING.get(env.RING.idFromName(RING_OBJECT_NAME))
      .report(batch)
      .then(({ epoch }) => onEpoch(epoch))
      // A lost report is dropped, not retried: the next interval brings fresh counts.
      .catch((error: unknown) =>
        console.error(`health report failed: ${error instanceof Error ? error.message : error}`),
      )
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
}
