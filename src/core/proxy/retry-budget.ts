/**
 * A retry budget per isolate, after Envoy's `retry_budget`: retries may be at most `percent` % of
 * the requests of the last `windowMs`, with a floor of `minRetries` per window, so a failing origin
 * set cannot multiply the load on the origins that are left. Pure: time is a parameter.
 *
 * Envoy (`budget_percent` 20 %, `min_retry_concurrency` 3) bounds *concurrent* retries against
 * *active* requests. Ours counts retries started per window instead: what protects an origin is
 * the extra load over time, and counting starts needs no bookkeeping on every way a request ends.
 *
 * Granularity: the window is the current bucket and the nine before it, each windowMs / 10 wide,
 * so it covers between 0.9 × and 1 × windowMs, and a request or retry is forgotten 0.9–1 windowMs
 * after it was counted. Every grant at time t therefore satisfies
 *   retries granted in (t − 0.9 windowMs, t]  ≤  max(minRetries, ⌊requests in (t − windowMs, t] × percent / 100⌋);
 * a full windowMs may hold, on top, the retries granted in its oldest tenth (the slack).
 */

const BUCKETS = 10;

/** Settings of the budget (RETRY_BUDGET_PERCENT, RETRY_BUDGET_MIN, RETRY_BUDGET_WINDOW_MS). */
export interface RetryBudgetSettings {
  readonly percent: number;
  readonly minRetries: number;
  readonly windowMs: number;
}

/** Rolling counts of requests and retries over the last windowMs, in 10 buckets. */
export interface RetryBudget {
  /** Requests per bucket, at the bucket's number modulo 10. */
  readonly requests: number[];
  /** Retries granted per bucket, at the bucket's number modulo 10. */
  readonly retries: number[];
  /** The newest bucket's number (⌊time / width⌋); −Infinity before the first call. */
  newest: number;
  /** The bucket width the counts were taken with. */
  width: number;
  /** Sums over the live buckets, kept so a call costs the same whatever the window holds. */
  requestTotal: number;
  retryTotal: number;
}

/** An empty budget. */
export function createRetryBudget(): RetryBudget {
  return {
    requests: new Array<number>(BUCKETS).fill(0),
    retries: new Array<number>(BUCKETS).fill(0),
    newest: Number.NEGATIVE_INFINITY,
    width: 0,
    requestTotal: 0,
    retryTotal: 0,
  };
}

/** Counts one client request (not a retry) at `now`. */
export function recordRequest(budget: RetryBudget, settings: RetryBudgetSettings, now: number): void {
  const slot = advance(budget, settings, now);
  budget.requests[slot]! += 1;
  budget.requestTotal += 1;
}

/** True (and the retry is counted) when one more retry fits the budget at `now`. */
export function tryAcquireRetry(budget: RetryBudget, settings: RetryBudgetSettings, now: number): boolean {
  const slot = advance(budget, settings, now);
  // Written as "not below" so that a NaN allowance (settings that are not numbers) refuses.
  if (!(budget.retryTotal < allowance(budget.requestTotal, settings))) return false;
  budget.retries[slot]! += 1;
  budget.retryTotal += 1;
  return true;
}

/** For status pages: requests and retries in the window. */
export function budgetUsage(
  budget: RetryBudget,
  settings: RetryBudgetSettings,
  now: number,
): { readonly requests: number; readonly retries: number; readonly allowed: number } {
  advance(budget, settings, now);
  return {
    requests: budget.requestTotal,
    retries: budget.retryTotal,
    allowed: allowance(budget.requestTotal, settings),
  };
}

function allowance(requests: number, { percent, minRetries }: RetryBudgetSettings): number {
  return Math.max(minRetries, Math.floor((requests * percent) / 100));
}

/** Moves the window to `now`, expiring old buckets, and returns the slot that `now` counts in. */
function advance(budget: RetryBudget, settings: RetryBudgetSettings, now: number): number {
  const width = settings.windowMs > 0 ? settings.windowMs / BUCKETS : 1;
  let bucket = Math.floor(now / width);
  // A time that is not a number counts in the newest bucket rather than poisoning the counts.
  if (!Number.isFinite(bucket)) bucket = Number.isFinite(budget.newest) ? budget.newest : 0;
  if (width !== budget.width) {
    // Buckets of another width cannot be mapped onto these: start afresh.
    clearAll(budget);
    budget.width = width;
    budget.newest = bucket;
  } else if (bucket > budget.newest) {
    const steps = bucket - budget.newest;
    if (steps >= BUCKETS) clearAll(budget);
    // An integer step, not a bucket number, drives the loop: it ends even where floats are coarse.
    else for (let k = 1; k <= steps; k++) clearSlot(budget, slotOf(budget.newest + k));
    budget.newest = bucket;
  } else if (bucket <= budget.newest - BUCKETS) {
    // The clock stepped back by more than a window: the counts belong to a time that no longer
    // makes sense, and keeping them would freeze the budget until the clock caught up.
    clearAll(budget);
    budget.newest = bucket;
  }
  // Otherwise `now` lies in a live bucket (the newest or, out of order, an older one): count it there.
  return slotOf(bucket);
}

function slotOf(bucket: number): number {
  return ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
}

function clearSlot(budget: RetryBudget, slot: number): void {
  budget.requestTotal -= budget.requests[slot]!;
  budget.retryTotal -= budget.retries[slot]!;
  budget.requests[slot] = 0;
  budget.retries[slot] = 0;
}

function clearAll(budget: RetryBudget): void {
  budget.requests.fill(0);
  budget.retries.fill(0);
  budget.requestTotal = 0;
  budget.retryTotal = 0;
}
