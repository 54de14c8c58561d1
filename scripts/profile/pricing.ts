/**
 * What CPU per request costs on Cloudflare Workers Standard pricing. The prices are inputs, not
 * measurements: Cloudflare's Workflows pricing page states that it is "identical to Workers
 * Standard pricing" and lists it (10 million requests included per month + $0.30 per additional
 * million; 30 million CPU milliseconds included per month + $0.02 per additional million CPU
 * milliseconds). Re-read the page when quoting the figures.
 */

export const WORKERS_STANDARD = {
  source: "https://developers.cloudflare.com/workflows/reference/pricing/",
  read: "2026-12-03",
  usdPerMillionRequests: 0.3,
  usdPerMillionCpuMs: 0.02,
  includedRequestsPerMonth: 10_000_000,
  includedCpuMsPerMonth: 30_000_000,
} as const;

/** A 30-day month, as the bill's "per month" allowances are read here. */
const SECONDS_PER_MONTH = 30 * 24 * 3600;

export interface Cost {
  /** CPU milliseconds billed per second of traffic. */
  readonly cpuMsPerSecond: number;
  /** USD per 30-day month, after the included allowances. */
  readonly cpuUsdPerMonth: number;
  readonly requestsUsdPerMonth: number;
}

/** The monthly bill for `rps` requests per second, each using `cpuUsPerRequest` µs of CPU. */
export function workersCost(rps: number, cpuUsPerRequest: number): Cost {
  const p = WORKERS_STANDARD;
  const requests = rps * SECONDS_PER_MONTH;
  const cpuMs = (requests * cpuUsPerRequest) / 1000;
  return {
    cpuMsPerSecond: (rps * cpuUsPerRequest) / 1000,
    cpuUsdPerMonth: (Math.max(0, cpuMs - p.includedCpuMsPerMonth) / 1e6) * p.usdPerMillionCpuMs,
    requestsUsdPerMonth: (Math.max(0, requests - p.includedRequestsPerMonth) / 1e6) * p.usdPerMillionRequests,
  };
}
