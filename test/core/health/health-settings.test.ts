import { describe, expect, test } from "vitest";
import { parseSettings } from "../../../src/core/config/settings.ts";
import { pickHealthSettings } from "../../../src/core/health/health-settings.ts";
import { DEFAULT_HEALTH_SETTINGS } from "../../../src/core/health/health.ts";

function settings(vars: Record<string, unknown>) {
  const parsed = parseSettings(vars);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

describe("pickHealthSettings", () => {
  test.each<[string, Record<string, unknown>, object]>([
    ["no variables: the defaults", {}, DEFAULT_HEALTH_SETTINGS],
    ["HEALTH_RISE and HEALTH_FALL", { HEALTH_RISE: "4", HEALTH_FALL: "1" }, { rise: 4, fall: 1 }],
    [
      "EJECT_AFTER_FAILURES and EJECT_MAX_PERCENT",
      { EJECT_AFTER_FAILURES: "9", EJECT_MAX_PERCENT: "50" },
      { ejectAfter: 9, ejectMaxPercent: 50 },
    ],
  ])("%s", (_, vars, expected) => {
    expect(pickHealthSettings(settings(vars))).toEqual({ ...DEFAULT_HEALTH_SETTINGS, ...expected });
  });

  test("carries exactly the state machine's tunables, nothing else", () => {
    expect(Object.keys(pickHealthSettings(settings({}))).sort()).toEqual(Object.keys(DEFAULT_HEALTH_SETTINGS).sort());
  });
});
