import { describe, expect, test } from "vitest";
import { FORWARD_FIELDS, parseForwardFields } from "../../../src/core/config/forward-fields.ts";

const on = (raw: unknown) => {
  const result = parseForwardFields(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return Object.entries(result.value)
    .filter(([, v]) => v)
    .map(([k]) => k);
};

describe("parseForwardFields (FORWARD_HEADERS)", () => {
  test("unset or empty: X-Forwarded-For alone", () => {
    for (const raw of [undefined, null, ""]) expect(on(raw)).toEqual(["forwardedFor"]);
  });

  test("a list in any case and spacing, a TOML array, every field, none", () => {
    expect(on(" X-Real-IP , forwarded ")).toEqual(["realIp", "forwarded"]);
    expect(on(["x-forwarded-host", "x-lb-successor"])).toEqual(["host", "successor"]);
    expect(on(FORWARD_FIELDS.join(","))).toEqual(["forwardedFor", "proto", "host", "realIp", "forwarded", "successor"]);
    expect(on("none")).toEqual([]);
    expect(on("x-real-ip,x-real-ip")).toEqual(["realIp"]);
  });

  test.each([
    ["via", /Via is always sent/],
    ["x-forwarded-for,via", /Via is always sent/],
    ["x-forwarded-by", /must name fields from/],
    ["none,x-real-ip", /"none" alone/],
    ["x-real-ip,", /must name fields from/],
    [42, /comma-separated list/],
    [[1], /must name fields from/],
  ])("%j is an error naming FORWARD_HEADERS", (raw, message) => {
    const result = parseForwardFields(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]!.field).toBe("FORWARD_HEADERS");
      expect(result.errors[0]!.message).toMatch(message);
    }
  });
});
