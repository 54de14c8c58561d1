import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { xxh32, xxh32String } from "../../../src/core/hash.ts";
import { clientKey } from "../../../src/core/key/client-key.ts";
import {
  countForReport,
  createReportCounter,
  isEmptyCounter,
  takeReport,
} from "../../../src/core/traffic/report-counter.ts";
import { validateTrafficReport } from "../../../src/core/traffic/traffic-report.ts";
import { estimateUsers } from "../../../src/core/traffic/user-bits.ts";

const T0 = 1_800_000_000_000;

function count(
  counter: ReturnType<typeof createReportCounter>,
  origin: string | null,
  ip: string,
  status: number,
  now: number,
  user: string | null = null,
) {
  const key = clientKey(ip);
  countForReport(counter, origin, key, xxh32(key.bytes), status, now, user === null ? null : xxh32String(user));
}

describe("an isolate's counts since its last report", () => {
  test("per origin requests and 5xx, the heavy keys, and the span; taking the report starts afresh", () => {
    const counter = createReportCounter();
    expect(takeReport(counter, "iso", T0)).toBeNull();
    for (let i = 0; i < 30; i++) count(counter, "b", "198.51.100.9", i % 10 === 0 ? 502 : 200, T0 + i);
    for (let i = 0; i < 5; i++) count(counter, "a", `192.0.2.${i}`, 200, T0 + 100);
    countForReport(counter, null, null, 0, 503, T0 + 200);
    const report = takeReport(counter, "iso", T0 + 2_000)!;
    expect(report).toMatchObject({
      version: 1,
      source: "iso",
      spanMs: 2_000,
      requests: 35,
      origins: [
        { id: "a", requests: 5, errors: 0 },
        { id: "b", requests: 30, errors: 3 },
      ],
    });
    expect(report.keys[0]).toMatchObject({ key: "198.51.100.9/32", count: 30, overestimate: 0 });
    expect(validateTrafficReport(report)).toEqual({ ok: true, value: report });
    expect(isEmptyCounter(counter)).toBe(true);
    expect(takeReport(counter, "iso", T0 + 3_000)).toBeNull();
  });

  test("users behind one address are told apart by their trait hashes", () => {
    const counter = createReportCounter();
    for (let u = 0; u < 40; u++) for (let r = 0; r < 3; r++) count(counter, "a", "203.0.113.1", 200, T0, `agent-${u}`);
    for (let r = 0; r < 100; r++) count(counter, "a", "203.0.113.2", 200, T0, "one-agent");
    const report = takeReport(counter, "iso", T0 + 1_000)!;
    const nat = report.keys.find((k) => k.key === "203.0.113.1/32")!;
    const single = report.keys.find((k) => k.key === "203.0.113.2/32")!;
    expect(estimateUsers(single.userBits!)).toBeCloseTo(1, 0);
    expect(estimateUsers(nat.userBits!)).toBeGreaterThan(20);
  });

  test("any traffic gives a report that validates, with every request counted once per origin", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            origin: fc.constantFrom("a", "b", "c", null),
            ip: fc.integer({ min: 0, max: 300 }),
            status: fc.constantFrom(200, 404, 500, 503),
          }),
          { maxLength: 400 },
        ),
        (requests) => {
          const counter = createReportCounter();
          requests.forEach((r, i) => count(counter, r.origin, `10.0.${r.ip >> 8}.${r.ip & 255}`, r.status, T0 + i));
          const report = takeReport(counter, "iso", T0 + 1_000);
          if (requests.length === 0) {
            expect(report).toBeNull();
            return;
          }
          expect(validateTrafficReport(report).ok).toBe(true);
          for (const id of ["a", "b", "c"]) {
            const mine = requests.filter((r) => r.origin === id);
            const entry = report!.origins.find((o) => o.id === id);
            expect(entry?.requests ?? 0).toBe(mine.length);
            expect(entry?.errors ?? 0).toBe(mine.filter((r) => r.status >= 500).length);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
