// The log sink: each level through its console method (what Workers Logs records as the level),
// and the values of the env's secrets kept out of every line.
import { afterEach, describe, expect, test, vi } from "vitest";
import { emitLog, secretValues } from "../../src/worker/emit-log.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("emitLog", () => {
  test.each([
    ["info", "log"],
    ["warn", "warn"],
    ["error", "error"],
  ] as const)("level %s goes to console.%s, as one JSON line", (level, method) => {
    const spies = {
      log: vi.spyOn(console, "log").mockImplementation(() => undefined),
      warn: vi.spyOn(console, "warn").mockImplementation(() => undefined),
      error: vi.spyOn(console, "error").mockImplementation(() => undefined),
    };
    emitLog({ event: "probe.round", level, probed: 3 }, null, Date.UTC(2026, 0, 1));
    for (const [name, spy] of Object.entries(spies)) expect(spy).toHaveBeenCalledTimes(name === method ? 1 : 0);
    const line = JSON.parse(String(spies[method].mock.calls[0]![0])) as unknown;
    expect(line).toEqual({ event: "probe.round", at: "2026-01-01T00:00:00.000Z", level, probed: 3 });
  });

  test("does NOT print the value of ADMIN_TOKEN, ORIGIN_AUTH_SECRET or ALERT_WEBHOOK_URL", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const env = {
      ADMIN_TOKEN: "admin-token-0123456789",
      ORIGIN_AUTH_SECRET: "origin-secret-abcdef",
      ALERT_WEBHOOK_URL: "https://hooks.example/T0/B0/xyz",
      LB_PREFIX: "/__lb",
    };
    const error = `saw admin-token-0123456789, origin-secret-abcdef and https://hooks.example/T0/B0/xyz`;
    emitLog({ event: "misconfigured", level: "error", error }, env);
    const line = String(spy.mock.calls[0]![0]);
    for (const secret of Object.values(env).slice(0, 3)) expect(line).not.toContain(secret);
    expect(secretValues(env)).not.toContain("/__lb");
  });
});
