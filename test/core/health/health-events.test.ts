// Health events: what changed since the last announcement, once per change; panic mode as routing decides it.
import { describe, expect, test } from "vitest";
import {
  conditionOf,
  diffOrigin,
  diffPanic,
  panicCondition,
  type OriginCondition,
} from "../../../src/core/health/health-events.ts";
import { INITIAL_HEALTH, type HealthRecord } from "../../../src/core/health/health.ts";

const c = (status: OriginCondition["status"], ejected = false): OriginCondition => ({ status, ejected });
const h = (fields: Partial<HealthRecord> = {}): HealthRecord => ({ ...INITIAL_HEALTH, ...fields });

describe("diffOrigin", () => {
  test.each([
    ["unknown → down", c("unknown"), c("down"), ["origin.down"], [true]],
    ["up → down", c("up"), c("down"), ["origin.down"], [true]],
    ["down → up", c("down"), c("up"), ["origin.up"], [true]],
    ["unknown → up (first verdict: logged, not notable)", c("unknown"), c("up"), ["origin.up"], [false]],
    ["up → ejected", c("up"), c("up", true), ["origin.ejected"], [true]],
    ["ejected → in", c("up", true), c("up"), ["origin.restored"], [true]],
    ["down → unknown (new URL): nothing", c("down"), c("unknown"), [], []],
    ["the same: nothing", c("up", true), c("up", true), [], []],
    ["down and ejected at once → both", c("up"), c("down", true), ["origin.down", "origin.ejected"], [true, true]],
  ])("%s", (_name, before, after, events, notable) => {
    const out = diffOrigin("alpha", "eu", before, after, h({ error: "status 503" }));
    expect(out.map((e) => e.event)).toEqual(events);
    expect(out.map((e) => e.notable)).toEqual(notable);
    for (const e of out) expect(e).toMatchObject({ origin: "alpha", pool: "eu" });
  });

  test("down names the probe's error, from and to", () => {
    const [event] = diffOrigin("a", null, c("up"), c("down"), h({ status: "down", error: "status 503", failures: 3 }));
    expect(event).toMatchObject({ from: "up", to: "down", detail: { error: "status 503", failures: 3 } });
  });
});

describe("conditionOf", () => {
  test("ejected only while now < ejectedUntil", () => {
    const health = h({ status: "up", ejectedUntil: 1_000 });
    expect(conditionOf(health, 999)).toEqual(c("up", true));
    expect(conditionOf(health, 1_000)).toEqual(c("up", false));
  });
});

describe("panicCondition and diffPanic", () => {
  const up = { state: "active" as const, health: h({ status: "up" }) };
  const down = { state: "active" as const, health: h({ status: "down" }) };
  const ejected = { state: "active" as const, health: h({ status: "up", ejectedUntil: 10 }) };
  const disabledDown = { state: "disabled" as const, health: h({ status: "down" }) };

  test.each([
    ["2 of 4 eligible is not below 50 %", [up, up, down, down], false],
    ["1 of 3 eligible is", [up, down, ejected], true],
    ["disabled origins do not count", [up, disabledDown, disabledDown], false],
    ["no active origin: no panic", [disabledDown], false],
  ])("%s", (_name, members, panic) => {
    expect(panicCondition(members, 50, 5).panic).toBe(panic);
  });

  test("an event only when panic changes, with the numbers behind it", () => {
    const now = panicCondition([up, down, down], 50, 5);
    expect(diffPanic(true, now, 50)).toBeNull();
    expect(diffPanic(false, now, 50)).toMatchObject({
      event: "panic.start",
      origin: null,
      from: "normal",
      to: "panic",
      detail: { eligible: 1, active: 3, thresholdPercent: 50 },
    });
    expect(diffPanic(true, panicCondition([up, up, down], 50, 5), 50)).toMatchObject({ event: "panic.end" });
  });
});
