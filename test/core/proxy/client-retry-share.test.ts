import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  clientCap,
  clientMayRetry,
  countClientRetry,
  createClientRetryShare,
} from "../../../src/core/proxy/client-retry-share.ts";

const S = { percent: 20, windowMs: 10_000 };
const T0 = 1_700_000_000_000;

/** Grants retries to `client` the way the proxy does, until refused; returns how many. */
function drain(share: ReturnType<typeof createClientRetryShare>, client: number, allowed: number, now: number): number {
  let granted = 0;
  while (granted < 10_000 && clientMayRetry(share, client, allowed, S, now)) {
    countClientRetry(share, client, S, now);
    granted++;
  }
  return granted;
}

describe("a client's share of the retry budget", () => {
  test.each([
    [10, 20, 2],
    [500, 20, 100],
    [3, 20, 1],
    [0, 20, 1],
    [10, 100, 10],
  ])("cap of an allowance of %i at %i %% is %i", (allowed, percent, cap) => {
    expect(clientCap(allowed, percent)).toBe(cap);
  });

  test("one client is refused at its cap while another still gets its own", () => {
    const share = createClientRetryShare();
    expect(drain(share, 0xdead, 50, T0)).toBe(10);
    expect(clientMayRetry(share, 0xdead, 50, S, T0 + 1)).toBe(false);
    expect(drain(share, 0xbeef, 50, T0 + 2)).toBe(10);
  });

  test("the next window starts afresh", () => {
    const share = createClientRetryShare();
    drain(share, 7, 50, T0);
    expect(clientMayRetry(share, 7, 50, S, T0 + S.windowMs)).toBe(true);
  });

  test("100 % means no per-client cap", () => {
    const share = createClientRetryShare();
    for (let i = 0; i < 1_000; i++) countClientRetry(share, 1, { ...S, percent: 100 }, T0);
    expect(clientMayRetry(share, 1, 1, { ...S, percent: 100 }, T0)).toBe(true);
  });

  test("a time that is not a number keeps the window's counts", () => {
    const share = createClientRetryShare();
    drain(share, 3, 10, T0);
    expect(clientMayRetry(share, 3, 10, S, NaN)).toBe(false);
  });

  test("property: no client gets more than its cap in one window, whatever the others do", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 1_000 }),
        (clients, allowed) => {
          const share = createClientRetryShare();
          const granted = new Map<number, number>();
          for (const client of clients) {
            if (!clientMayRetry(share, client, allowed, S, T0)) continue;
            countClientRetry(share, client, S, T0);
            granted.set(client, (granted.get(client) ?? 0) + 1);
          }
          for (const count of granted.values()) expect(count).toBeLessThanOrEqual(clientCap(allowed, S.percent));
        },
      ),
    );
  });
});
