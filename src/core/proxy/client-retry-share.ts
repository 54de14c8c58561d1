/**
 * One client's share of the retry budget (RETRY_BUDGET_CLIENT_PERCENT). The isolate's budget
 * (retry-budget.ts) caps retries against all requests; without a share, one client sending a
 * stream of failing requests (a path its origin answers with 503) would spend the whole budget,
 * and the failovers that other clients need when an origin really fails would be refused.
 *
 * Per client, retries granted in the current window may be at most `percent` % of the budget's
 * allowance (at least one). Clients are counted in a fixed table of 256 counters by their
 * address hash, so a request costs O(1) and no allocation; two clients that share a counter share
 * one cap, which is stricter than intended for them, never looser. Windows are fixed (the
 * budget's RETRY_BUDGET_WINDOW_MS) and start afresh at each boundary. Pure: time is a parameter.
 */

const SLOTS = 256;

/** Retries granted per client counter in the current window. */
export interface ClientRetryShare {
  readonly counts: Uint32Array;
  /** ⌊now / windowMs⌋ of the window the counts belong to. */
  window: number;
}

/** How a client's share is set. */
export interface ClientShareSettings {
  /** 1–100: a client's share of the allowance; 100 lets one client take all of it. */
  readonly percent: number;
  readonly windowMs: number;
}

export function createClientRetryShare(): ClientRetryShare {
  return { counts: new Uint32Array(SLOTS), window: Number.NEGATIVE_INFINITY };
}

/** The most retries one client may have in a window whose budget allows `allowed`. */
export function clientCap(allowed: number, percent: number): number {
  return Math.max(1, Math.floor((allowed * percent) / 100));
}

/** True when the client (by its address hash) is under its cap at `now`; nothing is counted. */
export function clientMayRetry(
  share: ClientRetryShare,
  clientHash: number,
  allowed: number,
  settings: ClientShareSettings,
  now: number,
): boolean {
  if (settings.percent >= 100) return true;
  roll(share, settings, now);
  return share.counts[clientHash & (SLOTS - 1)]! < clientCap(allowed, settings.percent);
}

/** Counts one granted retry for the client. */
export function countClientRetry(
  share: ClientRetryShare,
  clientHash: number,
  settings: ClientShareSettings,
  now: number,
): void {
  roll(share, settings, now);
  share.counts[clientHash & (SLOTS - 1)]! += 1;
}

function roll(share: ClientRetryShare, { windowMs }: ClientShareSettings, now: number): void {
  const window = Math.floor(now / (windowMs > 0 ? windowMs : 1));
  // A time that is not a number stays in the current window rather than clearing it.
  if (!Number.isFinite(window) || window === share.window) return;
  share.counts.fill(0);
  share.window = window;
}
