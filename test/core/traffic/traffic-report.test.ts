import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  MAX_KEY_TEXT,
  MAX_REPORT_KEYS,
  MAX_REPORT_ORIGINS,
  MAX_REPORT_SPAN_MS,
  validateTrafficReport,
  type TrafficReport,
} from "../../../src/core/traffic/traffic-report.ts";

const valid: TrafficReport = {
  version: 1,
  source: "a1b2c3d4",
  spanMs: 1_000,
  requests: 10,
  origins: [
    { id: "eu-1", requests: 7, errors: 1 },
    { id: "eu-2", requests: 3, errors: 0 },
  ],
  keys: [{ key: "203.0.113.7/32", hash: 123, count: 6, overestimate: 1, userBits: 5 }],
};

const fieldOf = (value: unknown) => {
  const result = validateTrafficReport(value);
  return result.ok ? null : result.errors[0]!.field;
};

describe("validating an incoming report", () => {
  test("a well-formed report comes back as it was", () => {
    expect(validateTrafficReport(valid)).toEqual({ ok: true, value: valid });
    const { userBits: _, ...key } = valid.keys[0]!;
    expect(validateTrafficReport({ ...valid, keys: [key] })).toMatchObject({
      ok: true,
      value: { keys: [{ userBits: 0 }] },
    });
  });

  test.each([
    [null, "report"],
    [{ ...valid, version: 2 }, "version"],
    [{ ...valid, source: "" }, "source"],
    [{ ...valid, source: "x".repeat(65) }, "source"],
    [{ ...valid, spanMs: 0 }, "spanMs"],
    [{ ...valid, spanMs: MAX_REPORT_SPAN_MS + 1 }, "spanMs"],
    [{ ...valid, requests: -1 }, "requests"],
    [{ ...valid, requests: Infinity }, "requests"],
    [{ ...valid, origins: {} }, "origins"],
    [
      {
        ...valid,
        origins: Array.from({ length: MAX_REPORT_ORIGINS + 1 }, (_, i) => ({ id: `o${i}`, requests: 1, errors: 0 })),
      },
      "origins",
    ],
    [{ ...valid, origins: [valid.origins[0], valid.origins[0]] }, "origins[1].id"],
    [{ ...valid, origins: [{ id: "a b", requests: 1, errors: 0 }] }, "origins[0].id"],
    [{ ...valid, origins: [{ id: "a", requests: "1", errors: 0 }] }, "origins[0].requests"],
    [{ ...valid, origins: [{ id: "a", requests: 1, errors: 2 }] }, "origins[0].errors"],
    [
      {
        ...valid,
        keys: Array.from({ length: MAX_REPORT_KEYS + 1 }, (_, i) => ({
          key: `k${i}`,
          hash: i,
          count: 1,
          overestimate: 0,
        })),
      },
      "keys",
    ],
    [{ ...valid, keys: [{ key: "x".repeat(MAX_KEY_TEXT + 1), hash: 1, count: 1, overestimate: 0 }] }, "keys[0].key"],
    [{ ...valid, keys: [{ key: "k", hash: -1, count: 1, overestimate: 0 }] }, "keys[0].hash"],
    [{ ...valid, keys: [{ key: "k", hash: 2 ** 32, count: 1, overestimate: 0 }] }, "keys[0].hash"],
    [{ ...valid, keys: [{ key: "k", hash: 1, count: 1, overestimate: 2 }] }, "keys[0].overestimate"],
    [{ ...valid, keys: [{ key: "k", hash: 1, count: 1, overestimate: 0, userBits: 1.5 }] }, "keys[0].userBits"],
    [{ ...valid, keys: [valid.keys[0], valid.keys[0]] }, "keys[1].key"],
  ])("%# refuses the whole report, naming %s", (report, field) => {
    expect(fieldOf(report)).toBe(field);
  });

  test("anything at all is answered with a result, never a throw, and what passes is bounded", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = validateTrafficReport(value);
        if (result.ok) {
          expect(result.value.origins.length).toBeLessThanOrEqual(MAX_REPORT_ORIGINS);
          expect(result.value.keys.length).toBeLessThanOrEqual(MAX_REPORT_KEYS);
        } else expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});
